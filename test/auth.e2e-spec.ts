import { createHmac } from 'node:crypto';
import { Api, expectProblem, PASSWORD, query } from './support/api';
import { randomSuffix } from './support/random';
import { startTestApp, useTestApp } from './support/test-app';

const SUPERADMIN_EMAIL = 'root@example.com';
const SUPERADMIN_PASSWORD = 'SuperSecret123!';

function base64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** Builds a token by hand, as an attacker would. */
function forge(claims: object, secret: string, header: object = { alg: 'HS256', typ: 'JWT' }): string {
  const unsigned = `${base64url(header)}.${base64url(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level++) {
    value = [value];
  }
  return value;
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

describe('Admin authentication (e2e)', () => {
  const { testApp, api } = useTestApp({
    env: { SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD },
  });

  describe('POST /admin/login', () => {
    it('returns an RFC 6749 token response for JSON credentials', async () => {
      const organization = await api.createOrganization('Login Json');
      const response = await api.post('/admin/login', {
        json: { email: organization.email.toUpperCase(), password: PASSWORD },
      });
      expect(response.status).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.body).toEqual({
        access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
        token_type: 'bearer',
        expires_in: 1800,
        refresh_token: expect.stringMatching(/^[\w-]{43}$/),
        admin_id: organization.adminId,
        role: 'admin',
        organization_id: organization.id,
        organization_name: organization.name,
      });
      expect(claimsOf(response.body.access_token)).toMatchObject({
        sub: organization.adminId,
        org: organization.id,
        role: 'admin',
        ver: 0,
      });
    });

    it('accepts the OAuth2 password form', async () => {
      const organization = await api.createOrganization('Login Form');
      const response = await api.post('/admin/login', {
        form: { grant_type: 'password', username: organization.email, password: PASSWORD, scope: '' },
      });
      expect(response.status).toBe(200);
      expect(response.body.organization_id).toBe(organization.id);
    });

    it('gives the same 401 for a wrong password and an unknown email', async () => {
      const organization = await api.createOrganization('Login Wrong');
      const wrongPassword = await api.post('/admin/login', {
        json: { email: organization.email, password: 'Wrong-password-1' },
      });
      const unknownEmail = await api.post('/admin/login', {
        json: { email: `nobody-${randomSuffix()}@example.com`, password: PASSWORD },
      });
      expectProblem(wrongPassword, 401);
      expectProblem(unknownEmail, 401);
      expect(wrongPassword.body.detail).toBe(unknownEmail.body.detail);
    });

    it('refuses a password that only matches in its first 72 bytes', async () => {
      const organization = await api.createOrganization('Login Long');
      const longPassword = 'A'.repeat(72);
      await api.put('/org/update', {
        token: organization.token,
        json: { organization_name: organization.name, password: longPassword },
      });
      await api.login(organization.email, longPassword);
      expectProblem(
        await api.post('/admin/login', { json: { email: organization.email, password: `${longPassword}extra` } }),
        401,
      );
    });

    it.each([
      ['an operator object as password', { email: 'a@example.com', password: { $ne: null } }],
      ['an operator object as email', { email: { $ne: null }, password: PASSWORD }],
      ['no email', { password: PASSWORD }],
      ['an unknown field', { email: 'a@example.com', password: PASSWORD, role: 'superadmin' }],
      ['a wrong grant type', { username: 'a@example.com', password: PASSWORD, grant_type: 'client_credentials' }],
      ['both email and username', { username: 'a@example.com', email: 'a@example.com', password: PASSWORD }],
      [
        'an operator object as email beside a username',
        { username: 'a@example.com', email: { $ne: null }, password: PASSWORD },
      ],
      ['an array as email beside a username', { username: 'a@example.com', email: ['x'], password: PASSWORD }],
      ['a deeply nested unknown field', { email: 'a@example.com', password: PASSWORD, deep: nested(2000) }],
    ])('answers 400 for %s', async (_, json) => {
      expectProblem(await api.post('/admin/login', { json }), 400);
    });
  });

  describe('GET /admin/me', () => {
    it('describes the admin behind the token', async () => {
      const organization = await api.createOrganization('Me');
      const response = await api.get('/admin/me', { token: organization.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        success: true,
        message: 'Current admin retrieved',
        data: {
          admin_id: organization.adminId,
          email: organization.email,
          role: 'admin',
          is_member: false,
          organization_id: organization.id,
          organization_name: organization.name,
        },
      });
    });

    it('refuses missing, malformed, tampered, forged and expired tokens (401)', async () => {
      const organization = await api.createOrganization('Tokens');
      const secret = testApp().env.JWT_SECRET;
      const claims = claimsOf(organization.token);
      const now = Math.floor(Date.now() / 1000);
      const other = await api.createOrganization('Other Tokens');
      const bad = [
        undefined,
        'garbage',
        `${organization.token}x`,
        forge({ ...claims }, 'a-different-secret-of-sufficient-length'),
        `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`,
        forge({ ...claims, role: 'superadmin' }, 'guessed-secret'),
        forge({ ...claims, exp: now - 10, iat: now - 100 }, secret),
        forge({ sub: claims.sub, org: claims.org, role: claims.role, ver: claims.ver, iat: now }, secret),
        forge({ ...claims, sub: 'not-an-id' }, secret),
        forge({ ...claims, sub: { $ne: null } }, secret),
        forge({ ...claims, role: 'superadmin' }, secret),
        forge({ ...claims, org: other.id }, secret),
        forge({ ...claims, ver: 1 }, secret),
      ];
      for (const token of bad) {
        expectProblem(await api.get('/admin/me', { token }), 401);
      }
      expectProblem(await api.get('/admin/me', { headers: { authorization: `Basic ${base64url('a:b')}` } }), 401);
    });
  });

  describe('superadmin', () => {
    it('is created from SUPERADMIN_EMAIL at start-up and may list every organization', async () => {
      const token = await api.login(SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD);
      const me = await api.get('/admin/me', { token });
      expect(me.body.data).toMatchObject({ role: 'superadmin', organization_id: null, organization_name: null });

      const created = [await api.createOrganization('Listed'), await api.createOrganization('Listed')];
      const firstPage = await api.get(`/org/list?${query({ page: '1', limit: '2' })}`, { token });
      expect(firstPage.status).toBe(200);
      expect(firstPage.body.data).toMatchObject({ page: 1, limit: 2, total: expect.any(Number) });
      expect(firstPage.body.data.items).toHaveLength(2);
      expect(firstPage.body.data.items[0]).toHaveProperty('admin_email');
      const all = await api.get(`/org/list?${query({ limit: '100' })}`, { token });
      const names = all.body.data.items.map((item: { organization_name: string }) => item.organization_name);
      expect(names).toEqual(expect.arrayContaining(created.map((organization) => organization.name)));
      expect(all.body.data.total).toBe(names.length);
    });

    it('may update and delete any organization', async () => {
      const token = await api.login(SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD);
      const organization = await api.createOrganization('Managed');
      const renamed = `Managed Renamed ${randomSuffix()}`;
      const update = await api.put('/org/update', {
        token,
        json: { organization_name: organization.name, new_organization_name: renamed },
      });
      expect(update.status).toBe(200);
      expect(update.body.data.admin_email).toBe(organization.email);
      const removal = await api.delete(`/org/delete?${query({ organization_name: renamed })}`, { token });
      expect(removal.status).toBe(200);
    });

    it('answers 400 for a bad page or a limit over 100', async () => {
      const token = await api.login(SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD);
      const params: Array<Record<string, string>> = [
        { limit: '101' },
        { limit: '0' },
        { page: '0' },
        { page: 'x' },
        { page: '1.5' },
      ];
      for (const param of params) {
        expectProblem(await api.get(`/org/list?${query(param)}`, { token }), 400);
      }
    });

    it('is exactly the one SUPERADMIN_EMAIL names: a superadmin no longer named loses its role and its tokens', async () => {
      const master = { MASTER_DB_NAME: `e2e_superadmins_${randomSuffix()}` };
      const start = (env: Record<string, string>) => startTestApp({ env: { ...master, ...env } });
      const [former, next] = [`former-root-${randomSuffix()}@example.com`, `next-root-${randomSuffix()}@example.com`];
      const first = await start({ SUPERADMIN_EMAIL: former, SUPERADMIN_PASSWORD });
      const formerToken = await new Api(() => first.app).login(former, SUPERADMIN_PASSWORD);
      // Someone registers an organization under the address the next superadmin was to have.
      const clash = await new Api(() => first.app).createOrganization('Clash');
      await first.close({ dropDatabases: false });

      // Named address changed: the former superadmin is gone, tokens and all.
      const second = await start({ SUPERADMIN_EMAIL: next, SUPERADMIN_PASSWORD });
      const onSecond = new Api(() => second.app);
      expectProblem(await onSecond.get('/admin/me', { token: formerToken }), 401);
      expectProblem(
        await onSecond.post('/admin/login', { json: { email: former, password: SUPERADMIN_PASSWORD } }),
        401,
      );
      const nextToken = await onSecond.login(next, SUPERADMIN_PASSWORD);
      expect((await onSecond.get('/org/list', { token: nextToken })).status).toBe(200);
      await second.close({ dropDatabases: false });

      // An address of an organization admin: refused, and the start goes on, with no superadmin.
      // Its log line is expected here: kept out of the test output.
      const third = await start({ SUPERADMIN_EMAIL: clash.email, SUPERADMIN_PASSWORD, LOG_LEVEL: 'fatal' });
      const onThird = new Api(() => third.app);
      expectProblem(await onThird.get('/admin/me', { token: nextToken }), 401);
      expect((await onThird.get('/admin/me', { token: clash.token })).body.data).toMatchObject({ role: 'admin' });
      expectProblem(await onThird.get('/org/list', { token: await onThird.login(clash.email) }), 403);
      expect(await third.storage.admins().countDocuments({ role: 'superadmin' })).toBe(0);
      await third.close({ dropDatabases: false });

      // Unset: none.
      const fourth = await start({});
      expect(await fourth.storage.admins().find({ role: 'superadmin' }).toArray()).toEqual([]);
      await fourth.close();
    });

    it('keeps its id and tokens across restarts with the same password', async () => {
      const token = await api.login(SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD);
      const restarted = await startTestApp({
        env: { SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD, MASTER_DB_NAME: testApp().env.MASTER_DB_NAME },
      });
      try {
        expect((await new Api(() => restarted.app).get('/admin/me', { token })).status).toBe(200);
      } finally {
        await restarted.close({ dropDatabases: false });
      }
    });
  });
});
