import { Api, ApiResponse, expectProblem, PASSWORD } from './support/api';
import { startRedis } from './support/redis';
import { randomSuffix, startTestApp, TestApp, useTestApp } from './support/test-app';

const LIMIT = 10;
const CEILING = 30;
const CREATES = 5;
const limited = {
  LOGIN_RATE_LIMIT: String(LIMIT),
  LOGIN_FAILURE_CEILING: String(CEILING),
  LOGIN_RATE_WINDOW_SECONDS: '60',
  CREATE_RATE_LIMIT: String(CREATES),
  CREATE_GLOBAL_RATE_LIMIT: String(CREATES * 3),
  CREATE_RATE_WINDOW_SECONDS: '60',
};

function wrongLogin(api: Api, email: string, remoteAddress = '10.0.0.1', headers?: Record<string, string>) {
  return api.post('/admin/login', { json: { email, password: 'Wrong-password-1' }, remoteAddress, headers });
}

function rightLogin(api: Api, email: string, remoteAddress: string) {
  return api.post('/admin/login', { json: { email, password: PASSWORD }, remoteAddress });
}

function createFrom(api: Api, remoteAddress: string) {
  const suffix = randomSuffix();
  return api.post('/org/create', {
    json: {
      organization_name: `Throttled Create ${suffix}`,
      email: `create-${suffix}@example.com`,
      password: PASSWORD,
    },
    remoteAddress,
  });
}

/** Creating logs nobody in, so that no attempt is counted before the test's own. */
async function createWithoutLogin(api: Api, prefix: string, remoteAddress?: string): Promise<{ email: string }> {
  const email = `${prefix.toLowerCase().replace(/ /g, '-')}-${randomSuffix()}@example.com`;
  const created = await api.post('/org/create', {
    json: { organization_name: `${prefix} ${randomSuffix()}`, email, password: PASSWORD },
    remoteAddress,
  });
  expect(created.status).toBe(201);
  return { email };
}

function expectTooMany(response: ApiResponse, atMostSeconds = 60): number {
  expectProblem(response, 429);
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(atMostSeconds);
  return retryAfter;
}

describe('Login limits on one instance (e2e)', () => {
  const { api } = useTestApp({ env: limited });

  it("counts failures per email and address: an attacker's wrong passwords never lock the admin out elsewhere", async () => {
    const victim = await createWithoutLogin(api, 'Victim');
    for (let attempt = 1; attempt <= LIMIT; attempt++) {
      expectProblem(await wrongLogin(api, victim.email, '10.1.0.1'), 401);
    }
    // The attacker's address is refused for this email, even with the right password...
    expectTooMany(await wrongLogin(api, victim.email, '10.1.0.1'));
    expectTooMany(await rightLogin(api, victim.email, '10.1.0.1'));
    // ...and the admin, from anywhere else, is not.
    expect((await rightLogin(api, victim.email, '10.1.0.2')).status).toBe(200);
  });

  it('counts attempts sent together: no more than the limit are ever heard', async () => {
    const target = await createWithoutLogin(api, 'Parallel Guesses');
    const answers = await Promise.all(
      Array.from({ length: LIMIT * 3 }, () => wrongLogin(api, target.email, '10.1.1.1')),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(LIMIT);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(LIMIT * 2);
  });

  it('does not count successes: an office behind one address logs in as often as it likes', async () => {
    const admin = await createWithoutLogin(api, 'Busy Office');
    for (let attempt = 1; attempt <= LIMIT * 2; attempt++) {
      expect((await rightLogin(api, admin.email, '10.2.0.1')).status).toBe(200);
    }
    // A success clears that address's failures for the email.
    for (let attempt = 1; attempt < LIMIT; attempt++) {
      expectProblem(await wrongLogin(api, admin.email, '10.2.0.1'), 401);
    }
    expect((await rightLogin(api, admin.email, '10.2.0.1')).status).toBe(200);
    for (let attempt = 1; attempt < LIMIT; attempt++) {
      expectProblem(await wrongLogin(api, admin.email, '10.2.0.1'), 401);
    }
    expect((await rightLogin(api, admin.email, '10.2.0.1')).status).toBe(200);
  });

  it('backs off an email guessed at from many addresses, more each time, yet lets the right password in from a fresh one', async () => {
    const target = await createWithoutLogin(api, 'Spread Attack');
    const guessFrom = async (first: number) => {
      for (let attempt = 0; attempt < CEILING; attempt++) {
        expectProblem(await wrongLogin(api, target.email, `10.3.${first + Math.floor(attempt / 2)}.${attempt}`), 401);
      }
    };
    await guessFrom(0);
    // Back-off: an address that has failed for the email waits; a fresh one is still heard.
    const firstBackOff = expectTooMany(await wrongLogin(api, target.email, '10.3.0.0'));
    expectProblem(await wrongLogin(api, target.email, '10.3.200.1'), 401);
    expect((await rightLogin(api, target.email, '10.3.200.2')).status).toBe(200);

    // The ceiling reached again: the back-off is twice as long.
    await guessFrom(100);
    const secondBackOff = expectTooMany(await wrongLogin(api, target.email, '10.3.100.0'), 120);
    expect(secondBackOff).toBeGreaterThan(firstBackOff);
  });

  it('refuses an address after too many failures, whatever the email', async () => {
    for (let attempt = 1; attempt <= CEILING; attempt++) {
      expectProblem(await wrongLogin(api, `nobody-${attempt}-${randomSuffix()}@example.com`, '10.4.0.1'), 401);
    }
    expectTooMany(await wrongLogin(api, `someone-else-${randomSuffix()}@example.com`, '10.4.0.1'));
    expectProblem(await wrongLogin(api, `someone-else-${randomSuffix()}@example.com`, '10.4.0.2'), 401);
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY says otherwise', async () => {
    for (let attempt = 1; attempt <= CEILING; attempt++) {
      const headers = { 'x-forwarded-for': `192.0.2.${attempt}` };
      expectProblem(await wrongLogin(api, `spoof-${attempt}-${randomSuffix()}@example.com`, '10.5.0.1', headers), 401);
    }
    expectTooMany(await wrongLogin(api, 'spoof-last@example.com', '10.5.0.1', { 'x-forwarded-for': '192.0.2.99' }));
  });
});

describe('Create limits on one instance (e2e)', () => {
  const { api } = useTestApp({ env: limited });

  it('limits creates per client address, and all together', async () => {
    for (let attempt = 1; attempt <= CREATES; attempt++) {
      expect((await createFrom(api, '10.6.0.1')).status).toBe(201);
    }
    // The next one from that address waits; another address may still create.
    expectTooMany(await createFrom(api, '10.6.0.1'));
    for (let attempt = 1; attempt <= CREATES; attempt++) {
      expect((await createFrom(api, '10.6.0.2')).status).toBe(201);
    }
    for (let attempt = 1; attempt <= CREATES; attempt++) {
      expect((await createFrom(api, `10.6.1.${attempt}`)).status).toBe(201);
    }
    // CREATES × 3 in all: every address waits now, even one never seen.
    expectTooMany(await createFrom(api, '10.6.2.1'));
  });
});

describe('Login limits behind a trusted proxy (e2e)', () => {
  const { api } = useTestApp({ env: { ...limited, TRUST_PROXY: '10.9.0.1' } });

  it('counts per forwarded client address when the proxy is trusted', async () => {
    const headers = (client: string) => ({ 'x-forwarded-for': client });
    for (let attempt = 1; attempt <= CEILING; attempt++) {
      const email = `proxied-${attempt}-${randomSuffix()}@example.com`;
      expectProblem(await wrongLogin(api, email, '10.9.0.1', headers('198.51.100.7')), 401);
    }
    expectTooMany(await wrongLogin(api, 'proxied-last@example.com', '10.9.0.1', headers('198.51.100.7')));
    expectProblem(await wrongLogin(api, 'proxied-last@example.com', '10.9.0.1', headers('198.51.100.8')), 401);
  });
});

describe('Login and create limits across instances sharing Redis (e2e)', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let first: TestApp;
  let second: TestApp;

  // Without redis-server on the PATH, the first run installs one into .venv-redis/ (see startRedis).
  beforeAll(async () => {
    redis = await startRedis();
    first = await startTestApp({ env: { ...limited, REDIS_URL: redis.url } });
    second = await startTestApp({
      env: { ...limited, REDIS_URL: redis.url, MASTER_DB_NAME: first.env.MASTER_DB_NAME },
    });
  }, 300_000);

  // Closes only what beforeAll got to start: after a failed start-up some are still unset.
  afterAll(async () => {
    await second?.close({ dropDatabases: false });
    await first?.close();
    await redis?.stop();
  });

  it('counts the failures and creates made on both instances together', async () => {
    const apis = [new Api(() => first.app), new Api(() => second.app)];
    const organization = await createWithoutLogin(apis[0], 'Shared Limit', '10.7.9.9');
    for (let attempt = 1; attempt <= LIMIT; attempt++) {
      expectProblem(await wrongLogin(apis[attempt % 2], organization.email, '10.7.0.1'), 401);
    }
    expectTooMany(await wrongLogin(apis[0], organization.email, '10.7.0.1'));
    expectTooMany(await wrongLogin(apis[1], organization.email, '10.7.0.1'));

    for (let attempt = 1; attempt <= CREATES; attempt++) {
      expect((await createFrom(apis[attempt % 2], '10.7.1.1')).status).toBe(201);
    }
    expectTooMany(await createFrom(apis[0], '10.7.1.1'));
    expectTooMany(await createFrom(apis[1], '10.7.1.1'));
  });

  it('still limits each instance on its own while Redis is down', async () => {
    await redis.stop();
    const api = new Api(() => second.app);
    const organization = await createWithoutLogin(api, 'Redis Down', '10.8.9.9');
    for (let attempt = 1; attempt <= LIMIT; attempt++) {
      expectProblem(await wrongLogin(api, organization.email, '10.8.0.1'), 401);
    }
    expectTooMany(await wrongLogin(api, organization.email, '10.8.0.1'));
    expect((await rightLogin(api, organization.email, '10.8.0.2')).status).toBe(200);
  });
});
