import { AsyncLocalStorage } from 'node:async_hooks';
import { mongo } from 'mongoose';
import { toSlug } from '../src/organizations/organization-name';
import { Api, ApiResponse, expectProblem, PASSWORD } from './support/api';
import { eventually } from './support/eventually';
import { byName, closeOwnDatabaseApp, idsOf, OwnDatabase, startOwnDatabaseApp } from './support/own-database';
import { randomSuffix } from './support/random';
import { storageNameOfSlug, TenantStorage } from './support/tenant-storage';
import { mode, TestApp } from './support/test-app';

/**
 * Fault injection: the database stops and comes back while 20 clients keep reading, logging in and
 * creating. Every request is answered within the deadline its kind has by the app's configuration
 * (see `deadlineOf`), with a status its kind may have (503 problem+json while the database is away),
 * service resumes after the restart, and no organization is left half-made, checked in the database
 * with the MongoDB driver.
 */

const WORKERS = 20;
const MAX_REQUESTS = 4000;
const MAX_CREATES = 40;
const DOWN_MS = 3000;

type Kind = 'get' | 'get-missing' | 'login' | 'create';

const ALLOWED_STATUSES: Record<Kind, number[]> = {
  get: [200, 503],
  'get-missing': [404, 503],
  login: [200, 503],
  create: [201, 503],
};

/** What one request of a kind costs against the healthy database: its driver operations and its time. */
interface Cost {
  operations: number;
  ms: number;
}

/**
 * Counts the driver operations each request makes on the app's client, by the request's async
 * context: at the driver's entry point, which every operation goes through (the one the app bounds
 * by DB_TIMEOUT_MS, src/database/operation-deadline.ts).
 */
function operationCounter(client: mongo.MongoClient) {
  const context = new AsyncLocalStorage<{ operations: number }>();
  const execution = require('mongodb/lib/operations/execute_operation');
  const underlying = execution.executeOperation;
  execution.executeOperation = function (this: unknown, ...args: [mongo.MongoClient, ...unknown[]]) {
    const counter = context.getStore();
    if (counter && args[0] === client) {
      counter.operations++;
    }
    return underlying.apply(this, args);
  };
  return {
    async cost(send: () => Promise<ApiResponse>, expectedStatus: number): Promise<Cost> {
      const counter = { operations: 0 };
      const started = Date.now();
      const response = await context.run(counter, send);
      expect(response.status).toBe(expectedStatus);
      return { operations: counter.operations, ms: Date.now() - started };
    },
    restore: () => {
      execution.executeOperation = underlying;
    },
  };
}

interface Outcome {
  kind: Kind;
  /** The organization a create asked for. */
  name?: string;
  startedAt: number;
  finishedAt: number;
  /** 0: no answer within the deadline. */
  status: number;
  response?: ApiResponse;
}

describe('Faults: the database restarted under load (e2e)', () => {
  let database: OwnDatabase;
  let storage: TenantStorage;
  let testApp: TestApp;
  let api: Api;

  beforeAll(async () => {
    ({ database, storage, testApp } = await startOwnDatabaseApp('load'));
    api = new Api(() => testApp.app);
  });

  afterAll(() => closeOwnDatabaseApp({ database, testApp }));

  it('answers every request within its deadline (503 problem+json while the database is away), recovers, and keeps no half-made organization', async () => {
    const organization = await api.createOrganization('Under Load');
    const outcomes: Outcome[] = [];
    let creates = 0;
    let stopLoad = false;

    // Each kind's cost against the healthy database, before the load (a create's and a login's time
    // include one bcrypt at the app's BCRYPT_COST).
    const measured = `Load Measured ${randomSuffix()}`;
    const counter = operationCounter(testApp.connection.getClient());
    const costs: Record<Kind, Cost> = {
      get: await counter.cost(() => api.get(byName(organization.name)), 200),
      'get-missing': await counter.cost(() => api.get(byName(`Missing ${randomSuffix()}`)), 404),
      login: await counter.cost(
        () => api.post('/admin/login', { json: { email: organization.email, password: PASSWORD } }),
        200,
      ),
      create: await counter.cost(() => api.createOrganizationRequest(measured), 201),
    };
    counter.restore();
    const dbTimeoutMs = Number(testApp.env.DB_TIMEOUT_MS);
    const slowestRequestMs = Math.max(...Object.values(costs).map(({ ms }) => ms));
    /**
     * The latest a request of a kind may be answered: each of its database operations may take up to
     * DB_TIMEOUT_MS, the app's deadline for one operation (the first that fails as unavailable ends the
     * request with 503; one that succeeds late is followed by the next); besides, a request waits only
     * for the CPU (the event loop, bcrypt's threads), where at worst every other worker's whole request,
     * bcrypt included, runs ahead of it.
     */
    const deadlineOf = (kind: Kind) => costs[kind].operations * dbTimeoutMs + WORKERS * slowestRequestMs;
    const deadlines = Object.fromEntries((Object.keys(costs) as Kind[]).map((kind) => [kind, deadlineOf(kind)]));

    const send = (kind: Kind): { name?: string; request: Promise<ApiResponse> } => {
      switch (kind) {
        case 'get':
          return { request: api.get(byName(organization.name)) };
        case 'get-missing':
          return { request: api.get(byName(`Missing ${randomSuffix()}`)) };
        case 'login':
          return { request: api.post('/admin/login', { json: { email: organization.email, password: PASSWORD } }) };
        case 'create': {
          const name = `Load Created ${randomSuffix()}`;
          return { name, request: api.createOrganizationRequest(name) };
        }
      }
    };
    const kindOf = (worker: number): Kind =>
      worker < 2 ? 'create' : worker < 8 ? 'login' : worker < 10 ? 'get-missing' : 'get';

    const worker = async (index: number) => {
      let kind = kindOf(index);
      while (!stopLoad && outcomes.length < MAX_REQUESTS) {
        if (kind === 'create' && ++creates > MAX_CREATES) {
          kind = 'get';
        }
        const { name, request } = send(kind);
        const startedAt = Date.now();
        let timer: NodeJS.Timeout | undefined;
        const answered = await Promise.race([
          request,
          new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), deadlineOf(kind)))),
        ]);
        clearTimeout(timer);
        outcomes.push({
          kind,
          name,
          startedAt,
          finishedAt: Date.now(),
          status: answered?.status ?? 0,
          response: answered,
        });
      }
    };

    const loadStarted = Date.now();
    const load = Promise.all(Array.from({ length: WORKERS }, (_, index) => worker(index)));
    let downAt = 0;
    let upAt = 0;
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      downAt = Date.now();
      await database.stop();
      await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
      await database.restart();
      upAt = Date.now();
      // Keep the load on until the service has had the chance to show it recovered (40 successes, and
      // 5 answers of each kind, all begun after the restart) or 15 s have passed; the assertions below tell which.
      await eventually(
        async () => {
          const afterRestart = outcomes.filter((o) => o.startedAt > upAt);
          expect(afterRestart.filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(40);
          for (const kind of ['get', 'login'] as const) {
            expect(afterRestart.filter((o) => o.kind === kind).length).toBeGreaterThanOrEqual(5);
          }
        },
        15_000,
        100,
      ).catch(() => undefined);
    } finally {
      stopLoad = true;
      await load;
    }

    const counts: Record<string, number> = {};
    for (const { kind, status } of outcomes) {
      counts[`${kind} ${status}`] = (counts[`${kind} ${status}`] ?? 0) + 1;
    }
    const slowest = Object.fromEntries(
      (Object.keys(costs) as Kind[]).map((kind) => [
        kind,
        Math.max(0, ...outcomes.filter((o) => o.kind === kind).map((o) => o.finishedAt - o.startedAt)),
      ]),
    );
    console.log(
      `faults load (${mode()}): ${outcomes.length} requests in ${Date.now() - loadStarted} ms, ` +
        `database down for ${upAt - downAt} ms: ${JSON.stringify(counts)}; ` +
        `healthy costs ${JSON.stringify(costs)}, deadlines ${JSON.stringify(deadlines)} ms, ` +
        `slowest answers ${JSON.stringify(slowest)} ms`,
    );

    // No 500, no hang: every request answered within its deadline, with a status its kind may have.
    expect(
      outcomes.filter((o) => !ALLOWED_STATUSES[o.kind].includes(o.status)).map((o) => `${o.kind} ${o.status}`),
    ).toEqual([]);
    expect(outcomes.filter((o) => o.finishedAt - o.startedAt >= deadlineOf(o.kind))).toEqual([]);
    for (const outcome of outcomes.filter((o) => o.status === 503 || o.status === 404)) {
      expectProblem(outcome.response as ApiResponse, outcome.status);
    }
    for (const outcome of outcomes.filter((o) => o.status === 503)) {
      expect(outcome.response?.headers['retry-after']).toBeDefined();
    }
    // 200s before, 503s while it was down, 200s again after: the last answers of each kind all succeed.
    expect(outcomes.some((o) => o.finishedAt < downAt && o.status === 200)).toBe(true);
    expect(outcomes.some((o) => o.startedAt >= downAt && o.finishedAt <= upAt && o.status === 503)).toBe(true);
    const afterRestart = outcomes.filter((o) => o.startedAt > upAt);
    expect(afterRestart.filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(40);
    for (const kind of ['get', 'login'] as const) {
      expect(
        afterRestart
          .filter((o) => o.kind === kind)
          .slice(-5)
          .map((o) => o.status),
      ).toEqual([200, 200, 200, 200, 200]);
    }

    // In the database: every create either finished (whether or not its answer got through) or was
    // undone by recovery; no organization stays half-made, no admin is left without one.
    const created = outcomes.filter((o) => o.status === 201).map((o) => toSlug(o.name as string));
    const attempted = new Set(outcomes.filter((o) => o.kind === 'create').map((o) => toSlug(o.name as string)));
    await eventually(async () => {
      expect(await storage.organizations().countDocuments({ state: { $ne: 'active' } })).toBe(0);
    }, 30_000);
    const records = await storage.organizations().find().toArray();
    const slugs = records.map((record) => record.slug as string);
    const before = [toSlug(organization.name), toSlug(measured)];
    expect(slugs).toEqual(expect.arrayContaining([...before, ...created]));
    expect(slugs.filter((slug) => !before.includes(slug) && !attempted.has(slug))).toEqual([]);
    const admins = await storage.admins().find().toArray();
    expect(idsOf(admins).sort()).toEqual(records.map((record) => record.admin_id.toString()).sort());
    for (const record of records) {
      expect(record).not.toHaveProperty('operation');
      expect(idsOf(await storage.documents(storageNameOfSlug(record.slug), null))).toEqual([
        record.admin_id.toString(),
      ]);
    }
    // Nothing of the undone creates is left behind, and the API agrees with the database.
    for (const slug of attempted) {
      expect(await storage.exists(storageNameOfSlug(slug))).toBe(slugs.includes(slug));
    }
    for (const outcome of outcomes.filter((o) => o.kind === 'create')) {
      const kept = slugs.includes(toSlug(outcome.name as string));
      expect((await api.get(byName(outcome.name as string))).status).toBe(kept ? 200 : 404);
    }
    expect((await api.get('/admin/me', { token: organization.token })).status).toBe(200);
  }, 120_000);
});
