import { createHmac } from 'node:crypto';
import { ApiResponse, expectProblem, Organization, PASSWORD, query } from './support/api';
import { randomSuffix } from './support/random';
import { useTestApp } from './support/test-app';

const SUPERADMIN = { email: 'root-security@example.com', password: 'RootPassword123!' };
const TRUSTED_ORIGIN = 'https://console.example.com';

const base64url = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
function sign(claims: object, secret: string): string {
  const unsigned = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

/**
 * An attacker's view of every endpoint: bad tokens, hostile values and foreign organizations all
 * get the documented 4xx, and leave the master data exactly as it was.
 */
describe('Security (e2e)', () => {
  const { testApp, api } = useTestApp({
    env: { SUPERADMIN_EMAIL: SUPERADMIN.email, SUPERADMIN_PASSWORD: SUPERADMIN.password, CORS_ORIGINS: TRUSTED_ORIGIN },
  });
  let victim: Organization;
  let attacker: Organization;

  beforeAll(async () => {
    victim = await api.createOrganization('Victim');
    attacker = await api.createOrganization('Attacker');
  });

  /** Everything an attack could change, read straight from the database. */
  async function snapshot(): Promise<string> {
    const { storage } = testApp();
    const [organizations, admins] = await Promise.all([
      storage.organizations().find().sort({ _id: 1 }).toArray(),
      storage.admins().find().sort({ _id: 1 }).toArray(),
    ]);
    return JSON.stringify({ organizations, admins });
  }

  /** Runs the attack and checks that it failed with `status` and changed nothing. */
  async function expectRefusedWithoutEffect(status: number, attack: () => Promise<ApiResponse>): Promise<void> {
    const before = await snapshot();
    expectProblem(await attack(), status);
    expect(await snapshot()).toBe(before);
  }

  const protectedRequests = (token: string | undefined): Array<[string, () => Promise<ApiResponse>]> => [
    ['GET /admin/me', () => api.get('/admin/me', { token })],
    ['GET /org/list', () => api.get('/org/list', { token })],
    [
      'PUT /org/update',
      () => api.put('/org/update', { token, json: { organization_name: victim.name, password: 'Hijacked-123' } }),
    ],
    ['DELETE /org/delete', () => api.delete(`/org/delete?${query({ organization_name: victim.name })}`, { token })],
  ];

  describe('tokens', () => {
    const badTokens = (): Array<[string, string | undefined]> => {
      const secret = testApp().env.JWT_SECRET;
      const claims = claimsOf(victim.token);
      const now = Math.floor(Date.now() / 1000);
      return [
        ['no token', undefined],
        ['an expired token', sign({ ...claims, iat: now - 7200, exp: now - 3600 }, secret)],
        ['a token with alg none', `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`],
        ['a token signed with another secret', sign(claims, 'another-secret-that-is-also-long-enough')],
        ['a token with a forged role', sign({ ...claims, role: 'superadmin' }, 'guessed')],
        ['a correctly signed token with a forged role', sign({ ...claims, role: 'superadmin' }, secret)],
        ['a correctly signed token with a forged organization id', sign({ ...claims, org: attacker.id }, secret)],
        ['a correctly signed token without an expiry', sign({ ...claims, exp: undefined }, secret)],
      ];
    };

    it('refuses every bad token on every protected endpoint with 401, changing nothing', async () => {
      for (const [, token] of badTokens()) {
        for (const [, send] of protectedRequests(token)) {
          await expectRefusedWithoutEffect(401, send);
        }
      }
      expectProblem(await api.get(`/org/get?${query({ organization_name: victim.name })}`, { token: 'x.y.z' }), 401);
    });

    it('refuses a token from before a password change, and a token of a deleted organization', async () => {
      const changed = await api.createOrganization('Changed Password');
      const oldToken = changed.token;
      const update = await api.put('/org/update', {
        token: oldToken,
        json: { organization_name: changed.name, password: 'Another-password-1' },
      });
      expect(update.status).toBe(200);
      for (const [, send] of protectedRequests(oldToken)) {
        await expectRefusedWithoutEffect(401, send);
      }

      const deleted = await api.createOrganization('Deleted');
      const removal = await api.delete(`/org/delete?${query({ organization_name: deleted.name })}`, {
        token: deleted.token,
      });
      expect(removal.status).toBe(200);
      for (const [, send] of protectedRequests(deleted.token)) {
        await expectRefusedWithoutEffect(401, send);
      }
    });
  });

  describe('foreign organizations and superadmin powers', () => {
    it('gives an organization admin no power over another organization (403), and no superadmin powers', async () => {
      await expectRefusedWithoutEffect(403, () =>
        api.put('/org/update', {
          token: attacker.token,
          json: { organization_name: victim.name, new_organization_name: `Taken ${randomSuffix()}` },
        }),
      );
      await expectRefusedWithoutEffect(403, () =>
        api.put('/org/update', {
          token: attacker.token,
          json: { old_organization_name: victim.name, new_organization_name: victim.name, email: attacker.email },
        }),
      );
      await expectRefusedWithoutEffect(403, () =>
        api.delete('/org/delete', { token: attacker.token, json: { organization_name: victim.name } }),
      );
      await expectRefusedWithoutEffect(403, () => api.get('/org/list', { token: attacker.token }));
      const foreignView = await api.get(`/org/get?${query({ organization_name: victim.name })}`, {
        token: attacker.token,
      });
      expect(foreignView.body.data).not.toHaveProperty('admin_email');
    });

    it('keeps the superadmin account out of reach of the organization API', async () => {
      await expectRefusedWithoutEffect(409, () =>
        api.createOrganizationRequest(`Root Grab ${randomSuffix()}`, SUPERADMIN.email.toUpperCase()),
      );
      await expectRefusedWithoutEffect(409, () =>
        api.put('/org/update', {
          token: attacker.token,
          json: { organization_name: attacker.name, email: SUPERADMIN.email },
        }),
      );
    });
  });

  describe('hostile values', () => {
    const hostile: unknown[] = [{ $ne: null }, { $gt: '' }, { $where: 'sleep(1000)' }, ['a'], 42, null, true, {}];
    const bodies = (): Array<[string, (value: unknown) => Promise<ApiResponse>, string[]]> => [
      [
        'POST /org/create',
        (value) =>
          api.post('/org/create', {
            json: {
              organization_name: `Fresh ${randomSuffix()}`,
              email: `f-${randomSuffix()}@example.com`,
              password: PASSWORD,
              ...(value as object),
            },
          }),
        ['organization_name', 'email', 'password'],
      ],
      [
        'POST /admin/login',
        (value) =>
          api.post('/admin/login', { json: { email: victim.email, password: PASSWORD, ...(value as object) } }),
        ['email', 'password'],
      ],
      [
        'PUT /org/update',
        (value) =>
          api.put('/org/update', {
            token: victim.token,
            json: { organization_name: victim.name, ...(value as object) },
          }),
        ['organization_name', 'new_organization_name', 'email', 'password'],
      ],
      [
        'DELETE /org/delete',
        (value) => api.delete('/org/delete', { token: victim.token, json: { ...(value as object) } }),
        ['organization_name'],
      ],
    ];

    it('answers 400 to operator objects, arrays, numbers, booleans and nulls in every field, changing nothing', async () => {
      for (const [, send, fields] of bodies()) {
        for (const field of fields) {
          for (const value of hostile) {
            await expectRefusedWithoutEffect(400, () => send({ [field]: value }));
          }
        }
      }
    });

    it('answers 400 to operator keys, repeated keys and non-numbers in every query field, changing nothing', async () => {
      const superadminToken = await api.login(SUPERADMIN.email, SUPERADMIN.password);
      const name = encodeURIComponent(victim.name);
      const nameAttacks = [
        'organization_name[$ne]=x',
        'organization_name[$regex]=.*',
        `organization_name=${name}&organization_name=${name}`,
        'organization_name=',
        `organization_name=${name}&$where=1`,
      ];
      for (const attack of nameAttacks) {
        await expectRefusedWithoutEffect(400, () => api.get(`/org/get?${attack}`));
        await expectRefusedWithoutEffect(400, () => api.delete(`/org/delete?${attack}`, { token: victim.token }));
      }
      const pageAttacks = [
        'page[$gt]=0',
        'page=1&page=2',
        'page=-1',
        'page=1e3',
        'page=null',
        'limit=101',
        'limit=0x10',
      ];
      for (const attack of pageAttacks) {
        await expectRefusedWithoutEffect(400, () => api.get(`/org/list?${attack}`, { token: superadminToken }));
      }
    });

    it.each([
      ['a dollar sign', 'Acme $where'],
      ['a dot-dollar', '.$cmd'],
      ['a slash', 'acme/../admin'],
      ['a NUL byte', 'acme\u0000admin'],
      ['10 000 characters', 'a'.repeat(10_000)],
      ['right-to-left override', 'Acme\u202eCorp'],
      ['a zero-width joiner', 'Ac\u200dme'],
      ['a Cyrillic homoglyph of an existing name', 'Viсtim'],
    ])('refuses an organization name with %s, to create, find, rename or delete', async (_, name) => {
      await expectRefusedWithoutEffect(400, () => api.createOrganizationRequest(name));
      await expectRefusedWithoutEffect(400, () => api.get(`/org/get?${query({ organization_name: name })}`));
      await expectRefusedWithoutEffect(400, () =>
        api.put('/org/update', {
          token: victim.token,
          json: { organization_name: victim.name, new_organization_name: name },
        }),
      );
      await expectRefusedWithoutEffect(400, () =>
        api.delete(`/org/delete?${query({ organization_name: name })}`, { token: victim.token }),
      );
    });

    it('names storage from the slug only, so a system. name cannot reach a system collection', async () => {
      const response = await api.createOrganizationRequest(`system.users ${randomSuffix()}`);
      expect(response.status).toBe(201);
      expect(response.body.data.collection_name).toMatch(/^org_system_users_[0-9a-f]{8}$/);
    });
  });

  describe('look-alike emails', () => {
    it('treats the composed, decomposed and full-width spellings of one address as one admin', async () => {
      const suffix = randomSuffix();
      const composed = `adm\u00edn-${suffix}@example.com`; // í as one code point (NFC)
      const decomposed = `admi\u0301n-${suffix}@example.com`; // i + combining acute (NFD)
      const fullWidth = `\uff41dm\u00edn-${suffix}@example.com`; // full-width a
      expect(decomposed).not.toBe(composed);
      const created = await api.createOrganizationRequest(`Lookalike ${suffix}`, composed);
      expect(created.status).toBe(201);

      for (const lookalike of [decomposed, fullWidth]) {
        expectProblem(await api.createOrganizationRequest(`Lookalike Two ${randomSuffix()}`, lookalike), 409);
        expect(await api.login(lookalike)).toEqual(expect.any(String));
      }
      expect(await testApp().storage.admins().countDocuments({ email: { $regex: `-${suffix}@` } })).toBe(1);
    });
  });

  describe('HTTP hardening', () => {
    it('sends security headers, and a CSP under which Swagger UI loads only its own assets', async () => {
      const response = await api.get('/health');
      expect(response.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
      });
      // Over plain HTTP only; HSTS over TLS is shown in first-run.e2e-spec.ts.
      expect(response.headers).not.toHaveProperty('strict-transport-security');
      const docs = await api.get('/docs');
      const csp = String(docs.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      const scripts = [...String(docs.body).matchAll(/<script[^>]*src="([^"]+)"/g)].map((match) => match[1]);
      expect(scripts.length).toBeGreaterThan(0);
      expect(scripts.filter((source) => /^(https?:)?\/\//.test(source))).toEqual([]);
      expect(String(docs.body)).not.toMatch(/<script(?![^>]*src=)[^>]*>\s*\S/);
    });

    it('allows browsers only from the configured origins', async () => {
      const allowed = await api.get('/health', { headers: { origin: TRUSTED_ORIGIN } });
      expect(allowed.headers['access-control-allow-origin']).toBe(TRUSTED_ORIGIN);
      const other = await api.get('/health', { headers: { origin: 'https://evil.example.net' } });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    });
  });
});
