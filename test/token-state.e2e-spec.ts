import { mongo } from 'mongoose';
import { AppProcess, startAppProcess, stopAllAppProcesses } from '../tools/app-process';
import { Api, ApiResponse, expectProblem, Organization, PASSWORD, query } from './support/api';
import { call } from './support/app-http';
import { randomSuffix } from './support/random';
import { LocalRedis, startRedis } from './support/redis';
import { TenantStorage } from './support/tenant-storage';
import { mode, startTestApp, TestApp } from './support/test-app';

const NEW_PASSWORD = 'AnotherSecret456!';
/** How often a second instance is asked whether it still takes a token. */
const POLL_MS = 25;

const me = (api: Api, token: string) => api.get('/admin/me', { token });

async function organizationNameSeen(api: Api, token: string): Promise<string> {
  const response = await me(api, token);
  expect(response.status).toBe(200);
  return response.body.data.organization_name;
}

async function rename(api: Api, organization: Organization): Promise<string> {
  const newName = `Renamed ${randomSuffix()}`;
  const response = await api.put('/org/update', {
    token: organization.token,
    json: { old_organization_name: organization.name, new_organization_name: newName },
  });
  expect(response.status).toBe(200);
  return newName;
}

async function changePassword(api: Api, organization: Organization): Promise<void> {
  const response = await api.put('/org/update', {
    token: organization.token,
    json: { organization_name: organization.name, password: NEW_PASSWORD },
  });
  expect(response.status).toBe(200);
}

async function addMemberToken(api: Api, organization: Organization): Promise<{ id: string; token: string }> {
  const email = `member-${randomSuffix()}@example.com`;
  const added = await api.post('/org/members', { token: organization.token, json: { email, password: PASSWORD } });
  expect(added.status).toBe(201);
  const login = await api.post('/auth/login', { json: { email, password: PASSWORD, organization: organization.name } });
  expect(login.status).toBe(200);
  return { id: added.body.data.member_id, token: login.body.access_token };
}

/** How long after `since` the answer of `ask` first met `done`, asking every POLL_MS for up to `withinMs`. */
async function msUntil(
  ask: () => Promise<ApiResponse>,
  done: (response: ApiResponse) => boolean,
  since: number,
  withinMs: number,
): Promise<number> {
  for (;;) {
    const response = await ask();
    const elapsed = Date.now() - since;
    if (done(response) || elapsed > withinMs) {
      expect({ elapsed, status: response.status, met: done(response) }).toMatchObject({ met: true });
      return elapsed;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

const refused = (response: ApiResponse) => response.status === 401;

describe('What a token depends on, cached per instance (e2e)', () => {
  describe('on the instance that made the change: never stale', () => {
    let app: TestApp;
    let api: Api;

    beforeAll(async () => {
      // A long bound: only the instance's own invalidation can explain a fresh answer.
      app = await startTestApp({ env: { TOKEN_STATE_TTL_MS: '60000' } });
      api = new Api(() => app.app);
    });

    afterAll(() => app?.close());

    it('shows a rename at once, refuses the old token after a password change at once, and after a delete', async () => {
      const organization = await api.createOrganization('Cached Here');
      expect(await organizationNameSeen(api, organization.token)).toBe(organization.name);

      const newName = await rename(api, organization);
      expect(await organizationNameSeen(api, organization.token)).toBe(newName);

      const renamed = { ...organization, name: newName };
      await changePassword(api, renamed);
      expectProblem(await me(api, organization.token), 401);

      const token = await api.login(organization.email, NEW_PASSWORD);
      expect((await me(api, token)).status).toBe(200);
      const deleted = await api.delete(`/org/delete?${query({ organization_name: newName })}`, { token });
      expect(deleted.status).toBe(200);
      expectProblem(await me(api, token), 401);
    });

    it("refuses a member's token at once after a change of role and after a removal", async () => {
      const organization = await api.createOrganization('Cached Members');
      const promoted = await addMemberToken(api, organization);
      const removed = await addMemberToken(api, organization);
      expect((await me(api, promoted.token)).status).toBe(200);
      expect((await me(api, removed.token)).status).toBe(200);

      const promotion = await api.request('PATCH', `/org/members/${promoted.id}`, {
        token: organization.token,
        json: { role: 'admin' },
      });
      expect(promotion.status).toBe(200);
      expectProblem(await me(api, promoted.token), 401);

      const removal = await api.delete(`/org/members/${removed.id}`, { token: organization.token });
      expect(removal.status).toBe(200);
      expectProblem(await me(api, removed.token), 401);
    });
  });

  /**
   * Two app processes: two apps in one process would share Passport's strategy registry, and so
   * one instance's token checks.
   */
  describe('across two instances (processes) on one database', () => {
    const master = `e2e_token_state_${mode()}_${randomSuffix()}`;
    let client: mongo.MongoClient;
    let first: AppProcess;
    let second: AppProcess;
    let redis: LocalRedis | undefined;

    beforeAll(async () => {
      client = await new mongo.MongoClient(process.env.MONGODB_URI as string).connect();
    });

    afterEach(async () => {
      await stopAllAppProcesses();
      await redis?.stop();
      redis = undefined;
    });

    afterAll(async () => {
      await new TenantStorage(client, master, mode()).dropAll();
      await client.close();
    });

    async function startPair(env: Record<string, string>): Promise<void> {
      const common = {
        MONGODB_URI: process.env.MONGODB_URI as string,
        MASTER_DB_NAME: master,
        TENANCY_MODE: mode(),
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        BCRYPT_COST: '10',
        JWT_SECRET: 'token-state-e2e-secret-that-is-long-enough-for-production',
        ...env,
      };
      [first, second] = await Promise.all([startAppProcess(common), startAppProcess(common)]);
    }

    const meOn = (app: AppProcess, token: string) => call(app, 'GET', '/admin/me', { token });

    /** Revocations and a rename made on the first instance, as the second sees them: how long each took. */
    async function crossingTimes(withinMs: number): Promise<number[]> {
      const name = `Two Instances ${randomSuffix()}`;
      const email = `admin-${randomSuffix()}@example.com`;
      const created = await call(first, 'POST', '/org/create', {
        json: { organization_name: name, email, password: PASSWORD },
      });
      expect(created.status).toBe(201);
      const login = await call(first, 'POST', '/admin/login', { json: { email, password: PASSWORD } });
      const token = login.body.access_token as string;
      const memberEmail = `member-${randomSuffix()}@example.com`;
      const added = await call(first, 'POST', '/org/members', {
        token,
        json: { email: memberEmail, password: PASSWORD },
      });
      expect(added.status).toBe(201);
      const memberLogin = await call(first, 'POST', '/auth/login', {
        json: { email: memberEmail, password: PASSWORD, organization: name },
      });
      const memberToken = memberLogin.body.access_token as string;
      expect((await meOn(second, token)).body.data.organization_name).toBe(name);
      expect((await meOn(second, memberToken)).status).toBe(200);

      // Timed from each change's answer: the second instance read its state before the change began.
      const newName = `Renamed ${randomSuffix()}`;
      const renamed = await call(first, 'PUT', '/org/update', {
        token,
        json: { old_organization_name: name, new_organization_name: newName },
      });
      expect(renamed.status).toBe(200);
      let since = Date.now();
      const renameSeen = await msUntil(
        () => meOn(second, token),
        (response) => response.body.data?.organization_name === newName,
        since,
        withinMs,
      );

      const removal = await call(first, 'DELETE', `/org/members/${added.body.data.member_id}`, { token });
      expect(removal.status).toBe(200);
      since = Date.now();
      const removalSeen = await msUntil(() => meOn(second, memberToken), refused, since, withinMs);

      const changed = await call(first, 'PUT', '/org/update', {
        token,
        json: { organization_name: newName, password: NEW_PASSWORD },
      });
      expect(changed.status).toBe(200);
      since = Date.now();
      const passwordSeen = await msUntil(() => meOn(second, token), refused, since, withinMs);
      return [renameSeen, removalSeen, passwordSeen];
    }

    it('without Redis, the second instance catches up within TOKEN_STATE_TTL_MS', async () => {
      await startPair({ TOKEN_STATE_TTL_MS: '1000' });
      // The bound, plus a poll's and a request's own time.
      for (const elapsed of await crossingTimes(1000 + 250)) {
        expect(elapsed).toBeLessThanOrEqual(1250);
      }
    });

    it('with Redis, the second instance learns of each change as it is made, whatever TOKEN_STATE_TTL_MS', async () => {
      redis = await startRedis();
      await startPair({ TOKEN_STATE_TTL_MS: '60000', REDIS_URL: redis.url });
      for (const elapsed of await crossingTimes(1000)) {
        expect(elapsed).toBeLessThan(1000);
      }
    });
  });
});
