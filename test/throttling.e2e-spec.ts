import { Api, ApiResponse, expectProblem, PASSWORD } from './support/api';
import { startRedis } from './support/redis';
import { randomSuffix, startTestApp, TestApp, useTestApp } from './support/test-app';

const LIMIT = 10;
const limited = { LOGIN_RATE_LIMIT: String(LIMIT), LOGIN_RATE_WINDOW_SECONDS: '60' };

function wrongLogin(api: Api, email: string, remoteAddress = '10.0.0.1', headers?: Record<string, string>) {
  return api.post('/admin/login', { json: { email, password: 'Wrong-password-1' }, remoteAddress, headers });
}

/** Creating logs nobody in, so that no attempt is counted before the test's own. */
async function createWithoutLogin(api: Api, prefix: string): Promise<{ email: string; password: string }> {
  const email = `${prefix.toLowerCase().replace(/ /g, '-')}-${randomSuffix()}@example.com`;
  expect((await api.createOrganizationRequest(`${prefix} ${randomSuffix()}`, email)).status).toBe(201);
  return { email, password: PASSWORD };
}

function expectTooManyAttempts(response: ApiResponse): void {
  expectProblem(response, 429);
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  expect(Number(response.headers['retry-after'])).toBeLessThanOrEqual(60);
}

describe('Login throttling on one instance (e2e)', () => {
  const { api } = useTestApp({ env: limited });

  it('answers the eleventh wrong password for one email with 429 and Retry-After, from any address', async () => {
    const organization = await createWithoutLogin(api, 'Throttled Email');
    for (let attempt = 1; attempt <= LIMIT; attempt++) {
      expectProblem(await wrongLogin(api, organization.email, `10.1.0.${attempt}`), 401);
    }
    expectTooManyAttempts(await wrongLogin(api, organization.email, '10.1.0.99'));
    expectTooManyAttempts(
      await api.post('/admin/login', {
        json: { email: organization.email, password: organization.password },
        remoteAddress: '10.1.0.100',
      }),
    );
  });

  it('answers the eleventh attempt from one address with 429, whatever the email', async () => {
    for (let attempt = 1; attempt <= LIMIT; attempt++) {
      expectProblem(await wrongLogin(api, `nobody-${attempt}@example.com`, '10.2.0.1'), 401);
    }
    expectTooManyAttempts(await wrongLogin(api, 'someone-else@example.com', '10.2.0.1'));
    expectProblem(await wrongLogin(api, 'someone-else@example.com', '10.2.0.2'), 401);
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY says otherwise', async () => {
    for (let attempt = 1; attempt <= LIMIT; attempt++) {
      const headers = { 'x-forwarded-for': `192.0.2.${attempt}` };
      expectProblem(await wrongLogin(api, `spoof-${attempt}@example.com`, '10.3.0.1', headers), 401);
    }
    expectTooManyAttempts(
      await wrongLogin(api, 'spoof-last@example.com', '10.3.0.1', { 'x-forwarded-for': '192.0.2.99' }),
    );
  });
});

describe('Login throttling behind a trusted proxy (e2e)', () => {
  const { api } = useTestApp({ env: { ...limited, TRUST_PROXY: '10.9.0.1' } });

  it('counts per forwarded client address when the proxy is trusted', async () => {
    for (let attempt = 1; attempt <= LIMIT; attempt++) {
      const headers = { 'x-forwarded-for': '198.51.100.7' };
      expectProblem(await wrongLogin(api, `proxied-${attempt}@example.com`, '10.9.0.1', headers), 401);
    }
    const headers = (client: string) => ({ 'x-forwarded-for': client });
    expectTooManyAttempts(await wrongLogin(api, 'proxied-last@example.com', '10.9.0.1', headers('198.51.100.7')));
    expectProblem(await wrongLogin(api, 'proxied-last@example.com', '10.9.0.1', headers('198.51.100.8')), 401);
  });
});

describe('Login throttling across instances sharing Redis (e2e)', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let first: TestApp;
  let second: TestApp;
  let organization: { email: string };

  // Without redis-server on the PATH, the first run installs one into .venv-redis/ (see startRedis).
  beforeAll(async () => {
    redis = await startRedis();
    first = await startTestApp({ env: { ...limited, REDIS_URL: redis.url } });
    second = await startTestApp({
      env: { ...limited, REDIS_URL: redis.url, MASTER_DB_NAME: first.env.MASTER_DB_NAME },
    });
    organization = await createWithoutLogin(new Api(() => first.app), 'Shared Limit');
  }, 300_000);

  // Closes only what beforeAll got to start: after a failed start-up some are still unset.
  afterAll(async () => {
    await second?.close({ dropDatabases: false });
    await first?.close();
    await redis?.stop();
  });

  it('counts the attempts made on both instances together', async () => {
    const apis = [new Api(() => first.app), new Api(() => second.app)];
    for (let attempt = 1; attempt <= LIMIT; attempt++) {
      expectProblem(await wrongLogin(apis[attempt % 2], organization.email, `10.4.0.${attempt}`), 401);
    }
    expectTooManyAttempts(await wrongLogin(apis[0], organization.email, '10.4.1.1'));
    expectTooManyAttempts(await wrongLogin(apis[1], organization.email, '10.4.1.2'));
  });

  it('still limits each instance on its own while Redis is down', async () => {
    await redis.stop();
    const api = new Api(() => second.app);
    for (let attempt = 1; attempt <= LIMIT; attempt++) {
      expectProblem(await wrongLogin(api, 'while-redis-is-down@example.com', `10.5.0.${attempt}`), 401);
    }
    expectTooManyAttempts(await wrongLogin(api, 'while-redis-is-down@example.com', '10.5.1.1'));
  });
});
