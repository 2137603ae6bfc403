import { mongo } from 'mongoose';
import { createHmac } from 'node:crypto';
import { ApiResponse, expectProblem, Organization, PASSWORD, query } from './support/api';
import { randomSuffix } from './support/random';
import { storageNameOf } from './support/tenant-storage';
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

/** Every kind of caller the access matrix sends: no token, three bad ones, and four valid ones. */
const BAD_CALLERS = [
  'anonymous',
  'a malformed token',
  'an expired token',
  'a token signed with another secret',
] as const;
const VALID_CALLERS = ['member', 'admin member', "another organization's admin", 'superadmin'] as const;
type BadCaller = (typeof BAD_CALLERS)[number];
type ValidCaller = (typeof VALID_CALLERS)[number];
type Caller = BadCaller | ValidCaller;
const CALLERS: readonly Caller[] = [...BAD_CALLERS, ...VALID_CALLERS];

/** What a request names: an organization (by id and by name), one of its members, a refresh token. */
interface Target {
  organizationId: string;
  organizationName: string;
  memberId: string;
  refreshToken: string;
}

/** The kind of body an answer carries, told apart by shape. */
type Answer = 'problem' | 'envelope' | 'token' | 'empty' | 'unexpected';

function answerOf(response: ApiResponse): Answer {
  const { body, status } = response;
  if (/^application\/problem\+json/.test(String(response.headers['content-type']))) {
    const wellFormed =
      body?.type === 'about:blank' &&
      body.status === status &&
      typeof body.title === 'string' &&
      typeof body.detail === 'string';
    return wellFormed ? 'problem' : 'unexpected';
  }
  if (status === 204 && body === '') {
    return 'empty';
  }
  if (body?.success === true && body.data !== undefined) {
    return 'envelope';
  }
  return typeof body?.access_token === 'string' && typeof body.refresh_token === 'string' ? 'token' : 'unexpected';
}

/** One route of the access matrix, in one of its two path forms. */
interface MatrixRoute {
  route: string;
  /** Who gets `success`: everyone (a public route ignores any token), or these valid callers. */
  allowed: 'everyone' | readonly ValidCaller[];
  /** Anonymous callers get `success` too, though a token sent must be valid. */
  optional?: boolean;
  success: number;
  answer: Answer;
  /** What the request names, made or chosen before it (and before the before/after comparison). */
  prepare?: (allowed: boolean) => Promise<Partial<Target>>;
  send: (token: string | undefined, target: Target) => Promise<ApiResponse>;
}

/** The status a caller must get: 401 for a missing or bad token, 403 for a valid one not allowed. */
function expectedStatus(route: MatrixRoute, caller: Caller): number {
  if (route.allowed === 'everyone' || (route.optional && caller === 'anonymous')) {
    return route.success;
  }
  if ((BAD_CALLERS as readonly Caller[]).includes(caller)) {
    return 401;
  }
  return route.allowed.includes(caller as ValidCaller) ? route.success : 403;
}

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
  /**
   * Organizations and admins as stored. Left out: deleted organizations and names given up, which
   * recovery frees whenever their reservation ends.
   */
  async function snapshot(): Promise<string> {
    const { storage } = testApp();
    const released = { vacated_slugs: 0, claimed_slugs: 0, vacancy_lease_until: 0 };
    const [organizations, admins] = await Promise.all([
      storage
        .organizations()
        .find({ state: { $ne: 'deleted' } }, { projection: released })
        .sort({ _id: 1 })
        .toArray(),
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

  describe('members, sessions, the audit trail and /api/v1: who may do what', () => {
    let target: Organization;
    let outsider: Organization;
    let member: { id: string; email: string };
    let adminMember: { id: string; email: string };
    /** A plain member of `target` that refused requests try to read, change or remove. */
    let bystander: { id: string; email: string };
    /** The admin member's token, as logged in once: the template of the expired and forged ones. */
    let adminMemberToken: string;
    const tokens = new Map<Caller, string | undefined>();

    async function memberLogin(
      email: string,
      password = PASSWORD,
    ): Promise<{ access_token: string; refresh_token: string }> {
      const response = await api.post('/auth/login', {
        json: { email, password, organization: target.name },
      });
      expect(response.status).toBe(200);
      return response.body;
    }

    /** A caller's token, logged in once and again after its password route revoked it. */
    async function tokenOf(caller: Caller): Promise<string | undefined> {
      if (!tokens.has(caller)) {
        tokens.set(caller, await issue(caller));
      }
      return tokens.get(caller);
    }

    async function issue(caller: Caller): Promise<string | undefined> {
      const secret = testApp().env.JWT_SECRET;
      const now = Math.floor(Date.now() / 1000);
      switch (caller) {
        case 'anonymous':
          return undefined;
        case 'a malformed token':
          return 'not-a-jwt';
        case 'an expired token':
          return sign({ ...claimsOf(adminMemberToken), iat: now - 7200, exp: now - 3600 }, secret);
        case 'a token signed with another secret':
          return sign(claimsOf(adminMemberToken), 'another-secret-that-is-also-long-enough');
        case 'member':
          return (await memberLogin(member.email)).access_token;
        case 'admin member':
          return (await memberLogin(adminMember.email)).access_token;
        case "another organization's admin":
          return api.login(outsider.email);
        case 'superadmin':
          return api.login(SUPERADMIN.email, SUPERADMIN.password);
      }
    }

    async function addMember(role: 'member' | 'admin'): Promise<{ id: string; email: string }> {
      const email = `${role}-${randomSuffix()}@example.com`;
      const response = await api.post(`/api/v1/organizations/${target.id}/members`, {
        token: await tokenOf('superadmin'),
        json: { email, password: PASSWORD, role },
      });
      expect(response.status).toBe(201);
      return { id: response.body.data.member_id, email };
    }

    /**
     * Both organizations' records, admins, members and audit trails, the superadmin, and every refresh token, read
     * straight from the database. Other organizations' records are left out: recovery frees the names
     * of those deleted earlier whenever their reservation ends.
     */
    async function state(): Promise<string> {
      const { storage } = testApp();
      const master = storage.client.db(storage.master);
      const ids = (key: 'id' | 'adminId') => ({
        _id: { $in: [target, outsider].map((o) => new mongo.ObjectId(o[key])) },
      });
      const [organizations, admins, refreshTokens, ...tenants] = await Promise.all([
        storage.organizations().find(ids('id')).sort({ _id: 1 }).toArray(),
        storage
          .admins()
          .find({ $or: [ids('adminId'), { role: 'superadmin' }] })
          .sort({ _id: 1 })
          .toArray(),
        master.collection('refresh_tokens').find().sort({ _id: 1 }).toArray(),
        ...[target, outsider].flatMap(({ name }) => [
          storage.documents(storageNameOf(name), 'members'),
          storage.documents(storageNameOf(name), 'audit'),
        ]),
      ]);
      return JSON.stringify({ organizations, admins, refreshTokens, tenants });
    }

    async function expectRefusedUnchanged(status: number, attack: () => Promise<ApiResponse>): Promise<void> {
      const before = await state();
      expectProblem(await attack(), status);
      expect(await state()).toBe(before);
    }

    beforeAll(async () => {
      target = await api.createOrganization('Matrix Target');
      outsider = await api.createOrganization('Matrix Outsider');
      member = await addMember('member');
      adminMember = await addMember('admin');
      bystander = await addMember('member');
      adminMemberToken = (await memberLogin(adminMember.email)).access_token;
    });

    const v1 = (target: Target) => `/api/v1/organizations/${target.organizationId}`;
    const named = (target: Target) => query({ organization_name: target.organizationName });
    const newMember = () => ({ email: `new-${randomSuffix()}@example.com`, password: PASSWORD, role: 'admin' });
    const freshMember = async (allowed: boolean) => (allowed ? { memberId: (await addMember('member')).id } : {});
    const freshRefreshToken = async () => ({ refreshToken: (await memberLogin(bystander.email)).refresh_token });
    const spareOrganization = async (allowed: boolean) => {
      if (!allowed) {
        return {};
      }
      const spare = await api.createOrganization('Matrix Spare');
      return { organizationId: spare.id, organizationName: spare.name };
    };
    const ORGANIZATION_ADMINS: readonly ValidCaller[] = ['admin member', 'superadmin'];
    const SUPERADMIN_ONLY: readonly ValidCaller[] = ['superadmin'];
    const OWN_PASSWORD: readonly ValidCaller[] = ['member', 'admin member', "another organization's admin"];
    const NEW_PASSWORD = 'Another-password-1';
    const changeOwnPassword = { current_password: PASSWORD, new_password: NEW_PASSWORD };

    /** After a caller's password route changed its password: its tokens are refused, and the password goes back. */
    async function expectRevokedThenRestore(caller: Caller, oldToken: string | undefined): Promise<void> {
      expectProblem(await api.get('/admin/me', { token: oldToken }), 401);
      tokens.delete(caller);
      const email = { member: member.email, 'admin member': adminMember.email }[caller as string];
      const token = email
        ? (await memberLogin(email, NEW_PASSWORD)).access_token
        : await api.login(outsider.email, NEW_PASSWORD);
      const back = await api.post('/auth/password', {
        token,
        json: { current_password: NEW_PASSWORD, new_password: PASSWORD },
      });
      expect(back.status).toBe(200);
    }
    const freshOrganization = () => ({
      organization_name: `Matrix New ${randomSuffix()}`,
      email: `new-admin-${randomSuffix()}@example.com`,
      password: PASSWORD,
    });

    const routes: MatrixRoute[] = [
      // Members
      ...[
        {
          form: '/org/members',
          list: (t: Target) => `/org/members?${named(t)}`,
          one: (t: Target) => `/org/members/${t.memberId}?${named(t)}`,
        },
        {
          form: '/api/v1/organizations/{organization_id}/members',
          list: (t: Target) => `${v1(t)}/members`,
          one: (t: Target) => `${v1(t)}/members/${t.memberId}`,
        },
      ].flatMap(({ form, list, one }): MatrixRoute[] => [
        {
          route: `GET ${form}`,
          allowed: ORGANIZATION_ADMINS,
          success: 200,
          answer: 'envelope',
          send: (token, t) => api.get(list(t), { token }),
        },
        {
          route: `POST ${form}`,
          allowed: ORGANIZATION_ADMINS,
          success: 201,
          answer: 'envelope',
          send: (token, t) => api.post(list(t), { token, json: newMember() }),
        },
        {
          route: `GET ${form}/{member_id}`,
          allowed: ORGANIZATION_ADMINS,
          success: 200,
          answer: 'envelope',
          send: (token, t) => api.get(one(t), { token }),
        },
        {
          route: `PATCH ${form}/{member_id}`,
          allowed: ORGANIZATION_ADMINS,
          success: 200,
          answer: 'envelope',
          prepare: freshMember,
          send: (token, t) => api.request('PATCH', one(t), { token, json: { role: 'admin' } }),
        },
        {
          route: `DELETE ${form}/{member_id}`,
          allowed: ORGANIZATION_ADMINS,
          success: 200,
          answer: 'envelope',
          prepare: freshMember,
          send: (token, t) => api.delete(one(t), { token }),
        },
      ]),
      // The audit trail
      {
        route: 'GET /org/audit',
        allowed: ORGANIZATION_ADMINS,
        success: 200,
        answer: 'envelope',
        send: (token, t) => api.get(`/org/audit?${named(t)}`, { token }),
      },
      {
        route: 'GET /api/v1/organizations/{organization_id}/audit',
        allowed: ORGANIZATION_ADMINS,
        success: 200,
        answer: 'envelope',
        send: (token, t) => api.get(`${v1(t)}/audit`, { token }),
      },
      // Sessions: login, refresh and logout are public (a token sent with them is not read)
      ...['/auth', '/api/v1/auth'].flatMap((prefix): MatrixRoute[] => [
        {
          route: `POST ${prefix}/login`,
          allowed: 'everyone',
          success: 200,
          answer: 'token',
          send: (token, t) =>
            api.post(`${prefix}/login`, {
              token,
              json: { email: bystander.email, password: PASSWORD, organization: t.organizationId },
            }),
        },
        {
          route: `POST ${prefix}/refresh`,
          allowed: 'everyone',
          success: 200,
          answer: 'token',
          prepare: freshRefreshToken,
          send: (token, t) => api.post(`${prefix}/refresh`, { token, json: { refresh_token: t.refreshToken } }),
        },
        {
          route: `POST ${prefix}/logout`,
          allowed: 'everyone',
          success: 204,
          answer: 'empty',
          prepare: freshRefreshToken,
          send: (token, t) => api.post(`${prefix}/logout`, { token, json: { refresh_token: t.refreshToken } }),
        },
        {
          route: `POST ${prefix}/password`,
          allowed: OWN_PASSWORD,
          success: 200,
          answer: 'envelope',
          send: (token) => api.post(`${prefix}/password`, { token, json: changeOwnPassword }),
        },
      ]),
      // Organizations, the seed paths and /api/v1
      {
        route: 'POST /org/create',
        allowed: 'everyone',
        success: 201,
        answer: 'envelope',
        send: (token) => api.post('/org/create', { token, json: freshOrganization() }),
      },
      {
        route: 'POST /api/v1/organizations',
        allowed: 'everyone',
        success: 201,
        answer: 'envelope',
        send: (token) => api.post('/api/v1/organizations', { token, json: freshOrganization() }),
      },
      {
        route: 'GET /org/list',
        allowed: SUPERADMIN_ONLY,
        success: 200,
        answer: 'envelope',
        send: (token) => api.get('/org/list', { token }),
      },
      {
        route: 'GET /api/v1/organizations',
        allowed: SUPERADMIN_ONLY,
        success: 200,
        answer: 'envelope',
        send: (token) => api.get('/api/v1/organizations', { token }),
      },
      {
        route: 'GET /org/get',
        allowed: VALID_CALLERS,
        optional: true,
        success: 200,
        answer: 'envelope',
        send: (token, t) => api.get(`/org/get?${named(t)}`, { token }),
      },
      {
        route: 'GET /api/v1/organizations/{organization_id}',
        allowed: VALID_CALLERS,
        optional: true,
        success: 200,
        answer: 'envelope',
        send: (token, t) => api.get(v1(t), { token }),
      },
      {
        route: 'PUT /org/update',
        allowed: SUPERADMIN_ONLY,
        success: 200,
        answer: 'envelope',
        send: (token, t) =>
          api.put('/org/update', {
            token,
            json: { organization_name: t.organizationName, email: `changed-${randomSuffix()}@example.com` },
          }),
      },
      {
        route: 'PATCH /api/v1/organizations/{organization_id}',
        allowed: SUPERADMIN_ONLY,
        success: 200,
        answer: 'envelope',
        send: (token, t) =>
          api.request('PATCH', v1(t), { token, json: { email: `changed-${randomSuffix()}@example.com` } }),
      },
      {
        route: 'DELETE /org/delete',
        allowed: SUPERADMIN_ONLY,
        success: 200,
        answer: 'envelope',
        prepare: spareOrganization,
        send: (token, t) => api.delete(`/org/delete?${named(t)}`, { token }),
      },
      {
        route: 'DELETE /api/v1/organizations/{organization_id}',
        allowed: SUPERADMIN_ONLY,
        success: 200,
        answer: 'envelope',
        prepare: spareOrganization,
        send: (token, t) => api.delete(v1(t), { token }),
      },
    ];

    it.each(routes.map((route) => [route.route, route] as const))(
      '%s: 401 without a valid token, 403 for a valid one not allowed (changing nothing), else success',
      async (_, route) => {
        const observed: Record<string, { status: number; answer: Answer; unchanged?: boolean }> = {};
        const expected: typeof observed = {};
        for (const caller of CALLERS) {
          const status = expectedStatus(route, caller);
          const allowed = status < 400;
          const token = await tokenOf(caller);
          const defaults = {
            organizationId: target.id,
            organizationName: target.name,
            memberId: bystander.id,
            refreshToken: '',
          };
          const request: Target = { ...defaults, ...(await route.prepare?.(allowed)) };
          const before = allowed ? undefined : await state();
          const response = await route.send(token, request);
          observed[caller] = {
            status: response.status,
            answer: answerOf(response),
            ...(allowed ? {} : { unchanged: (await state()) === before }),
          };
          expected[caller] = allowed
            ? { status, answer: route.answer }
            : { status, answer: 'problem', unchanged: true };
          if (allowed && route.route.endsWith('/password')) {
            await expectRevokedThenRestore(caller, token);
          }
        }
        expect(observed).toEqual(expected);
      },
    );

    it('shows admin_email, the first admin’s, to the organization’s admins and superadmins only', async () => {
      const owner = await testApp()
        .storage.admins()
        .findOne({ _id: new mongo.ObjectId(target.adminId) });
      const email = owner?.email;
      expect(email).toEqual(expect.any(String));
      const seen: Record<string, unknown> = {};
      for (const caller of ['anonymous', ...VALID_CALLERS] as const) {
        const token = await tokenOf(caller);
        for (const url of [
          `/org/get?${query({ organization_name: target.name })}`,
          `/api/v1/organizations/${target.id}`,
        ]) {
          const response = await api.get(url, { token });
          expect(response.status).toBe(200);
          seen[`${caller} ${url.split('?')[0]}`] = response.body.data.admin_email;
        }
      }
      expect(seen).toEqual({
        'anonymous /org/get': undefined,
        [`anonymous /api/v1/organizations/${target.id}`]: undefined,
        'member /org/get': undefined,
        [`member /api/v1/organizations/${target.id}`]: undefined,
        'admin member /org/get': email,
        [`admin member /api/v1/organizations/${target.id}`]: email,
        "another organization's admin /org/get": undefined,
        [`another organization's admin /api/v1/organizations/${target.id}`]: undefined,
        'superadmin /org/get': email,
        [`superadmin /api/v1/organizations/${target.id}`]: email,
      });
    });

    it('refuses a member token re-signed with role admin (401), changing nothing', async () => {
      const forged = sign(
        { ...claimsOf((await memberLogin(member.email)).access_token), role: 'admin' },
        testApp().env.JWT_SECRET,
      );
      await expectRefusedUnchanged(401, () => api.get(`/api/v1/organizations/${target.id}/members`, { token: forged }));
      await expectRefusedUnchanged(401, () => api.post('/org/members', { token: forged, json: newMember() }));
      await expectRefusedUnchanged(401, () =>
        api.request('PATCH', `/org/members/${bystander.id}`, { token: forged, json: { role: 'admin' } }),
      );
      await expectRefusedUnchanged(401, () =>
        api.delete(`/api/v1/organizations/${target.id}/members/${bystander.id}`, { token: forged }),
      );
      await expectRefusedUnchanged(401, () => api.get('/org/audit', { token: forged }));
      await expectRefusedUnchanged(401, () => api.get('/admin/me', { token: forged }));
    });

    it('refuses a member token whose organization claim names another organization (401), changing nothing', async () => {
      const secret = testApp().env.JWT_SECRET;
      for (const email of [member.email, adminMember.email]) {
        const moved = sign({ ...claimsOf((await memberLogin(email)).access_token), org: outsider.id }, secret);
        await expectRefusedUnchanged(401, () => api.get('/admin/me', { token: moved }));
        await expectRefusedUnchanged(401, () => api.get('/org/members', { token: moved }));
        await expectRefusedUnchanged(401, () =>
          api.get(`/api/v1/organizations/${outsider.id}/members`, { token: moved }),
        );
        await expectRefusedUnchanged(401, () =>
          api.post(`/api/v1/organizations/${outsider.id}/members`, { token: moved, json: newMember() }),
        );
        await expectRefusedUnchanged(401, () =>
          api.get(`/api/v1/organizations/${outsider.id}/audit`, { token: moved }),
        );
        await expectRefusedUnchanged(401, () => api.post('/auth/password', { token: moved, json: changeOwnPassword }));
      }
      // Nor does dropping the member mark make an admin member a master-database admin.
      const { mem: _mem, ...unmarked } = claimsOf(adminMemberToken);
      const asAdmin = sign(unmarked, secret);
      await expectRefusedUnchanged(401, () =>
        api.get(`/api/v1/organizations/${target.id}/members`, { token: asAdmin }),
      );
      await expectRefusedUnchanged(401, () =>
        api.request('PATCH', `/api/v1/organizations/${target.id}`, {
          token: asAdmin,
          json: { password: 'Hijacked-123' },
        }),
      );
    });

    it('never takes a refresh token for a bearer token (401), changing nothing', async () => {
      const { refresh_token: refreshToken } = await memberLogin(adminMember.email);
      await expectRefusedUnchanged(401, () => api.get('/admin/me', { token: refreshToken }));
      await expectRefusedUnchanged(401, () => api.get(`/org/members`, { token: refreshToken }));
      await expectRefusedUnchanged(401, () =>
        api.post(`/api/v1/organizations/${target.id}/members`, { token: refreshToken, json: newMember() }),
      );
      await expectRefusedUnchanged(401, () =>
        api.post('/api/v1/auth/password', { token: refreshToken, json: changeOwnPassword }),
      );
      // It still works as what it is, once.
      const refreshed = await api.post('/auth/refresh', { json: { refresh_token: refreshToken } });
      expect(refreshed.status).toBe(200);
    });

    it('makes a superadmin name the organization on the seed paths (400), changing nothing', async () => {
      const token = await tokenOf('superadmin');
      await expectRefusedUnchanged(400, () => api.get('/org/members', { token }));
      await expectRefusedUnchanged(400, () => api.post('/org/members', { token, json: newMember() }));
      await expectRefusedUnchanged(400, () => api.delete(`/org/members/${bystander.id}`, { token }));
      await expectRefusedUnchanged(400, () => api.get('/org/audit', { token }));
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
      expect(
        await testApp()
          .storage.admins()
          .countDocuments({ email: { $regex: `-${suffix}@` } }),
      ).toBe(1);
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
