import { toSlug } from '../src/organizations/organization-name';
import { Api, ApiResponse, expectProblem, PASSWORD } from './support/api';
import { eventually } from './support/eventually';
import { byName, closeOwnDatabaseApp, idsOf, OwnDatabase, startOwnDatabaseApp } from './support/own-database';
import { randomSuffix } from './support/random';
import { storageNameOfSlug, TenantStorage } from './support/tenant-storage';
import { mode, TestApp } from './support/test-app';

/**
 * Fault injection: the database stops and comes back while 20 clients keep reading, logging in and
 * creating. Every request is answered within the deadline, with a status its kind may have (503
 * problem+json while the database is away), service resumes after the restart, and no organization
 * is left half-made, checked in the database with the MongoDB driver.
 */

const WORKERS = 20;
const MAX_REQUESTS = 4000;
const MAX_CREATES = 40;
const REQUEST_DEADLINE_MS = 5000;
const DOWN_MS = 3000;

type Kind = 'get' | 'get-missing' | 'login' | 'create';

const ALLOWED_STATUSES: Record<Kind, number[]> = {
  get: [200, 503],
  'get-missing': [404, 503],
  login: [200, 503],
  create: [201, 503],
};

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

  it('answers every request within 5 s (503 problem+json while the database is away), recovers, and keeps no half-made organization', async () => {
    const organization = await api.createOrganization('Under Load');
    const outcomes: Outcome[] = [];
    let creates = 0;
    let stopLoad = false;

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
          new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), REQUEST_DEADLINE_MS))),
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
    console.log(
      `faults load (${mode()}): ${outcomes.length} requests in ${Date.now() - loadStarted} ms, ` +
        `database down for ${upAt - downAt} ms: ${JSON.stringify(counts)}`,
    );

    // No 500, no hang: every request answered within the deadline, with a status its kind may have.
    expect(
      outcomes.filter((o) => !ALLOWED_STATUSES[o.kind].includes(o.status)).map((o) => `${o.kind} ${o.status}`),
    ).toEqual([]);
    expect(outcomes.filter((o) => o.finishedAt - o.startedAt >= REQUEST_DEADLINE_MS)).toEqual([]);
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
    expect(slugs).toEqual(expect.arrayContaining([toSlug(organization.name), ...created]));
    expect(slugs.filter((slug) => slug !== toSlug(organization.name) && !attempted.has(slug))).toEqual([]);
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
