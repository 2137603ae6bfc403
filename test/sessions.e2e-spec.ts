import { Api, ApiResponse, expectProblem, Organization, PASSWORD, query, RequestOptions } from './support/api';
import { randomSuffix } from './support/random';
import { useTestApp } from './support/test-app';

const SUPERADMIN_EMAIL = 'root@example.com';
const SUPERADMIN_PASSWORD = 'SuperSecret123!';
const NEW_PASSWORD = 'BrandNewPassword456!';

/** A token response of any login or refresh. */
interface Session {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  admin_id: string;
  role: string;
  organization_id: string | null;
  organization_name: string | null;
}

interface Member {
  id: string;
  email: string;
  password: string;
}

interface AuditEntry {
  audit_id: string;
  action: string;
  actor_id: string | null;
  actor_role: string | null;
  target: string | null;
  details?: Record<string, unknown>;
  at: string;
  ip: string | null;
  request_id: string | null;
}

function patch(api: Api, url: string, options?: RequestOptions): Promise<ApiResponse> {
  return api.request('PATCH', url, options);
}

function expectSession(response: ApiResponse): Session {
  expect(response.status).toBe(200);
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.body).toMatchObject({
    access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
    refresh_token: expect.stringMatching(/^[\w-]{20,}$/),
    token_type: 'bearer',
    expires_in: expect.any(Number),
    role: expect.any(String),
  });
  return response.body;
}

function refresh(api: Api, refreshToken: string, options: { path?: string; remoteAddress?: string } = {}) {
  return api.post(options.path ?? '/auth/refresh', {
    json: { refresh_token: refreshToken },
    remoteAddress: options.remoteAddress,
  });
}

async function rotate(api: Api, refreshToken: string, path?: string): Promise<Session> {
  return expectSession(await refresh(api, refreshToken, { path }));
}

async function expectRefused(api: Api, refreshToken: string): Promise<void> {
  expectProblem(await refresh(api, refreshToken), 401);
}

function adminLogin(api: Api, email: string, password = PASSWORD, remoteAddress?: string) {
  return api.post('/admin/login', { json: { email, password }, remoteAddress });
}

function memberLogin(
  api: Api,
  organization: string,
  member: Pick<Member, 'email' | 'password'>,
  remoteAddress?: string,
  path = '/auth/login',
) {
  return api.post(path, { json: { email: member.email, password: member.password, organization }, remoteAddress });
}

async function createOrganizationFrom(api: Api, prefix: string, remoteAddress: string): Promise<Organization> {
  const suffix = randomSuffix();
  const name = `${prefix} ${suffix}`;
  const email = `admin-${suffix}@example.com`;
  const created = await api.post('/org/create', {
    json: { organization_name: name, email, password: PASSWORD },
    remoteAddress,
  });
  expect(created.status).toBe(201);
  const token = expectSession(await adminLogin(api, email, PASSWORD, remoteAddress)).access_token;
  return {
    name,
    email,
    password: PASSWORD,
    id: created.body.data.organization_id,
    adminId: created.body.data.admin_id,
    token,
  };
}

async function addMember(
  api: Api,
  organization: Organization,
  role: 'member' | 'admin' = 'member',
  remoteAddress?: string,
): Promise<Member> {
  const email = `member-${randomSuffix()}@example.com`;
  const added = await api.post('/org/members', {
    token: organization.token,
    json: { email, password: PASSWORD, role },
    remoteAddress,
  });
  expect(added.status).toBe(201);
  return { id: added.body.data.member_id, email, password: PASSWORD };
}

async function auditOf(api: Api, organizationId: string, token: string, params: Record<string, string> = {}) {
  const response = await api.get(`/api/v1/organizations/${organizationId}/audit?${query(params)}`, { token });
  expect(response.status).toBe(200);
  return response.body.data as { items: AuditEntry[]; page: number; limit: number; total: number };
}

const actionsOf = (items: AuditEntry[]) => items.map((entry) => entry.action);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Sessions: refresh tokens (e2e)', () => {
  const { api } = useTestApp({ env: { SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD } });

  it('answers every login with a refresh token and the role', async () => {
    const organization = await api.createOrganization('Login Answers');
    const member = await addMember(api, organization);

    const admin = expectSession(await adminLogin(api, organization.email));
    expect(admin).toMatchObject({ role: 'admin', admin_id: organization.adminId, organization_id: organization.id });
    const viaAuth = expectSession(
      await api.post('/auth/login', { json: { email: organization.email, password: PASSWORD } }),
    );
    expect(viaAuth).toMatchObject({ role: 'admin', organization_name: organization.name });
    const viaV1 = expectSession(await memberLogin(api, organization.id, member, undefined, '/api/v1/auth/login'));
    expect(viaV1).toMatchObject({ role: 'member', admin_id: member.id, organization_id: organization.id });
    const superadmin = expectSession(await adminLogin(api, SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD));
    expect(superadmin).toMatchObject({ role: 'superadmin', organization_id: null, organization_name: null });
    // Every login starts a session of its own.
    expect(new Set([admin, viaAuth].map((session) => session.refresh_token)).size).toBe(2);
  });

  describe.each([
    ['a first admin', 'admin'],
    ['a member', 'member'],
    ['a superadmin', 'superadmin'],
  ])('for %s', (_, role) => {
    /** Sets up someone of this role, and returns how they log in (each time a new session). */
    async function principal(): Promise<() => Promise<Session>> {
      if (role === 'superadmin') {
        return async () => expectSession(await adminLogin(api, SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD));
      }
      const organization = await api.createOrganization('Rotation');
      if (role === 'admin') {
        return async () => expectSession(await adminLogin(api, organization.email));
      }
      const member = await addMember(api, organization);
      return async () => expectSession(await memberLogin(api, organization.name, member));
    }

    const logIn = async () => (await principal())();

    it('rotates: the new pair works, the used refresh token is refused', async () => {
      const first = await logIn();
      const second = await rotate(api, first.refresh_token);
      expect(second).toMatchObject({
        role,
        admin_id: first.admin_id,
        organization_id: first.organization_id,
        organization_name: first.organization_name,
      });
      expect(second.refresh_token).not.toBe(first.refresh_token);
      const me = await api.get('/admin/me', { token: second.access_token });
      expect(me.status).toBe(200);
      expect(me.body.data).toMatchObject({ admin_id: first.admin_id, role });

      // The new refresh token works once more, at the /api/v1 address too...
      const third = await rotate(api, second.refresh_token, '/api/v1/auth/refresh');
      expect((await api.get('/admin/me', { token: third.access_token })).status).toBe(200);
      // ...and a used one never again.
      await expectRefused(api, first.refresh_token);
    });

    it('revokes the whole family when a used refresh token comes back', async () => {
      const login = await principal();
      const first = await login();
      const other = await login();
      const second = await rotate(api, first.refresh_token);
      const third = await rotate(api, second.refresh_token);
      await expectRefused(api, second.refresh_token);
      // The newest token of that login is refused too: whoever holds it must log in again.
      await expectRefused(api, third.refresh_token);
      // Another login of the same principal is a family of its own and keeps working.
      await rotate(api, other.refresh_token);
    });

    it('logs out: 204, then the refresh token and every one rotated from it are refused', async () => {
      const first = await logIn();
      const second = await rotate(api, first.refresh_token);
      const third = await rotate(api, second.refresh_token);
      const logout = await api.post('/auth/logout', { json: { refresh_token: first.refresh_token } });
      expect(logout.status).toBe(204);
      expect(logout.body).toBe('');
      await expectRefused(api, third.refresh_token);
    });
  });

  it('records a reused refresh token in the trail, as its owner did it', async () => {
    const organization = await api.createOrganization('Reuse');
    const member = await addMember(api, organization);
    const login = expectSession(await memberLogin(api, organization.name, member));
    const rotated = await rotate(api, login.refresh_token);
    expectProblem(await refresh(api, login.refresh_token, { remoteAddress: '198.51.100.66' }), 401);
    await expectRefused(api, rotated.refresh_token);

    const trail = await auditOf(api, organization.id, organization.token, { action: 'refresh.reuse_detected' });
    expect(trail.total).toBe(1);
    expect(trail.items[0]).toEqual({
      audit_id: expect.any(String),
      action: 'refresh.reuse_detected',
      actor_id: member.id,
      actor_role: 'member',
      target: member.id,
      at: expect.any(String),
      ip: '198.51.100.66',
      request_id: expect.any(String),
    });
  });

  it('lets only one of two refreshes of the same token sent together through, and revokes what it got', async () => {
    const organization = await api.createOrganization('Refresh Race');
    const login = expectSession(await adminLogin(api, organization.email));
    const answers = await Promise.all([refresh(api, login.refresh_token), refresh(api, login.refresh_token)]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 401]);
    const winner = answers.find((answer) => answer.status === 200) as ApiResponse<Session>;
    // The token was presented twice: the family is compromised, the pair just issued included.
    await expectRefused(api, winner.body.refresh_token);
  });

  it('answers 204 to a logout with an unknown token, and 400 without one', async () => {
    expect((await api.post('/auth/logout', { json: { refresh_token: 'never-issued' } })).status).toBe(204);
    expectProblem(await api.post('/auth/logout', { json: {} }), 400);
    expectProblem(await api.post('/auth/refresh', { json: {} }), 400);
    expectProblem(await api.post('/auth/refresh', { json: { refresh_token: { $ne: null } } }), 400);
    await expectRefused(api, 'never-issued');
  });

  it('takes the current password as the new one for no change: nothing is revoked', async () => {
    const organization = await api.createOrganization('Same Password');
    const member = await addMember(api, organization);
    const session = expectSession(await memberLogin(api, organization.name, member));
    const same = await api.post('/auth/password', {
      token: session.access_token,
      json: { current_password: member.password, new_password: member.password },
    });
    expect(same.status).toBe(200);
    expect((await api.get('/admin/me', { token: session.access_token })).status).toBe(200);
    expectSession(await refresh(api, session.refresh_token));
  });

  it('keeps refresh tokens working across a rename', async () => {
    const organization = await api.createOrganization('Refresh Rename');
    const login = expectSession(await adminLogin(api, organization.email));
    const renamed = `Refresh Renamed ${randomSuffix()}`;
    const update = await api.put('/org/update', {
      token: organization.token,
      json: { organization_name: organization.name, new_organization_name: renamed },
    });
    expect(update.status).toBe(200);
    expect(await rotate(api, login.refresh_token)).toMatchObject({ organization_name: renamed });
  });

  describe('revocation', () => {
    it('by POST /auth/password, for a first admin and for a member', async () => {
      const organization = await api.createOrganization('Own Password');
      const member = await addMember(api, organization);
      const adminSession = expectSession(await adminLogin(api, organization.email));
      const memberSession = expectSession(await memberLogin(api, organization.name, member));
      const otherMemberSession = expectSession(await memberLogin(api, organization.name, member));

      const wrong = await api.post('/auth/password', {
        token: adminSession.access_token,
        json: { current_password: 'Not-the-password-1', new_password: NEW_PASSWORD },
      });
      expectProblem(wrong, 401);
      await rotate(api, otherMemberSession.refresh_token);

      for (const session of [adminSession, memberSession]) {
        const changed = await api.post('/auth/password', {
          token: session.access_token,
          json: { current_password: PASSWORD, new_password: NEW_PASSWORD },
        });
        expect(changed.status).toBe(200);
        expect(changed.body.data).toEqual({ admin_id: session.admin_id });
        await expectRefused(api, session.refresh_token);
        expectProblem(await api.get('/admin/me', { token: session.access_token }), 401);
      }
      // Every session of the member, not only the one that changed it.
      await expectRefused(api, otherMemberSession.refresh_token);
      expectSession(await adminLogin(api, organization.email, NEW_PASSWORD));
      expectSession(await memberLogin(api, organization.name, { ...member, password: NEW_PASSWORD }));
    });

    it('by a new password for the first admin (PUT /org/update and PATCH /api/v1), not by the current one', async () => {
      const organization = await api.createOrganization('Admin Password');
      const kept = expectSession(await adminLogin(api, organization.email));
      const unchanged = await api.put('/org/update', {
        token: organization.token,
        json: { organization_name: organization.name, password: PASSWORD },
      });
      expect(unchanged.status).toBe(200);
      const stillValid = await rotate(api, kept.refresh_token);

      const changed = await api.put('/org/update', {
        token: organization.token,
        json: { organization_name: organization.name, password: NEW_PASSWORD },
      });
      expect(changed.status).toBe(200);
      await expectRefused(api, stillValid.refresh_token);

      const again = expectSession(await adminLogin(api, organization.email, NEW_PASSWORD));
      const patched = await patch(api, `/api/v1/organizations/${organization.id}`, {
        token: again.access_token,
        json: { password: PASSWORD },
      });
      expect(patched.status).toBe(200);
      await expectRefused(api, again.refresh_token);

      // A new email, too.
      const last = expectSession(await adminLogin(api, organization.email));
      const newEmail = `moved-${organization.email}`;
      const moved = await patch(api, `/api/v1/organizations/${organization.id}`, {
        token: last.access_token,
        json: { email: newEmail },
      });
      expect(moved.status).toBe(200);
      await expectRefused(api, last.refresh_token);
      expectSession(await adminLogin(api, newEmail));
    });

    it("by a PATCH of a member's password or role, by its removal", async () => {
      const organization = await api.createOrganization('Member Changes');
      const [patched, removed, bystander] = [
        await addMember(api, organization),
        await addMember(api, organization),
        await addMember(api, organization),
      ];
      const patchedSession = expectSession(await memberLogin(api, organization.name, patched));
      const removedSession = expectSession(await memberLogin(api, organization.name, removed));
      const bystanderSession = expectSession(await memberLogin(api, organization.name, bystander));

      const patch1 = await patch(api, `/org/members/${patched.id}`, {
        token: organization.token,
        json: { password: NEW_PASSWORD },
      });
      expect(patch1.status).toBe(200);
      await expectRefused(api, patchedSession.refresh_token);
      expectSession(await memberLogin(api, organization.id, { ...patched, password: NEW_PASSWORD }));

      const removal = await api.delete(`/api/v1/organizations/${organization.id}/members/${removed.id}`, {
        token: organization.token,
      });
      expect(removal.status).toBe(200);
      await expectRefused(api, removedSession.refresh_token);

      const demoted = await addMember(api, organization, 'admin');
      const demotedSession = expectSession(await memberLogin(api, organization.name, demoted));
      const demotion = await patch(api, `/api/v1/organizations/${organization.id}/members/${demoted.id}`, {
        token: organization.token,
        json: { role: 'member' },
      });
      expect(demotion.status).toBe(200);
      await expectRefused(api, demotedSession.refresh_token);

      await rotate(api, bystanderSession.refresh_token);
    });

    it.each([
      ['DELETE /org/delete', 'seed'],
      ['DELETE /api/v1/organizations/{id} by a superadmin', 'v1'],
    ])('by the organization deleted (%s)', async (_, path) => {
      const organization = await api.createOrganization('Deleted Sessions');
      const member = await addMember(api, organization, 'admin');
      const adminSession = expectSession(await adminLogin(api, organization.email));
      const memberSession = expectSession(await memberLogin(api, organization.name, member));

      const removal =
        path === 'seed'
          ? await api.delete(`/org/delete?${query({ organization_name: organization.name })}`, {
              token: organization.token,
            })
          : await api.delete(`/api/v1/organizations/${organization.id}`, {
              token: await api.login(SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD),
            });
      expect(removal.status).toBe(200);
      await expectRefused(api, adminSession.refresh_token);
      await expectRefused(api, memberSession.refresh_token);
    });

    it("refuses a superadmin's own password change: SUPERADMIN_PASSWORD sets it", async () => {
      const session = expectSession(await adminLogin(api, SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD));
      const attempt = await api.post('/auth/password', {
        token: session.access_token,
        json: { current_password: SUPERADMIN_PASSWORD, new_password: NEW_PASSWORD },
      });
      expectProblem(attempt, 403);
      await rotate(api, session.refresh_token);
    });
  });
});

describe('Sessions: refresh token expiry (e2e)', () => {
  const { api } = useTestApp({ env: { REFRESH_TOKEN_TTL_SECONDS: '1' } });

  it('refuses a refresh token older than REFRESH_TOKEN_TTL_SECONDS', async () => {
    const organization = await api.createOrganization('Expiry');
    const member = await addMember(api, organization);
    const adminSession = expectSession(await adminLogin(api, organization.email));
    const memberSession = expectSession(await memberLogin(api, organization.name, member));
    // Fresh, it works.
    const rotated = await rotate(api, adminSession.refresh_token);
    await pause(1500);
    await expectRefused(api, rotated.refresh_token);
    await expectRefused(api, memberSession.refresh_token);
    // An expired token is no reuse: nothing for the trail.
    const trail = await auditOf(api, organization.id, organization.token, { action: 'refresh.reuse_detected' });
    expect(trail.total).toBe(0);
  });
});

describe('Audit trail (e2e)', () => {
  const { api } = useTestApp({ env: { SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD } });

  it('records every kind of change with its actor, target, address and request, newest first', async () => {
    const ip = (n: number) => `203.0.113.${n}`;
    const organization = await createOrganizationFrom(api, 'Audited', ip(1));
    const member = await addMember(api, organization, 'member', ip(2));
    expectProblem(await memberLogin(api, organization.name, { ...member, password: 'Wrong-password-1' }, ip(3)), 401);
    const memberSession = expectSession(await memberLogin(api, organization.name, member, ip(4)));
    const ownChange = await api.post('/auth/password', {
      token: memberSession.access_token,
      json: { current_password: PASSWORD, new_password: NEW_PASSWORD },
      remoteAddress: ip(5),
    });
    expect(ownChange.status).toBe(200);
    const promoted = await patch(api, `/org/members/${member.id}`, {
      token: organization.token,
      json: { role: 'admin' },
      remoteAddress: ip(6),
    });
    expect(promoted.status).toBe(200);
    const removed = await api.delete(`/org/members/${member.id}`, { token: organization.token, remoteAddress: ip(7) });
    expect(removed.status).toBe(200);
    const newName = `Audited Renamed ${randomSuffix()}`;
    const renamed = await api.put('/org/update', {
      token: organization.token,
      json: { organization_name: organization.name, new_organization_name: newName },
      remoteAddress: ip(8),
    });
    expect(renamed.status).toBe(200);
    const newEmail = `new-${organization.email}`;
    const credentials = await patch(api, `/api/v1/organizations/${organization.id}`, {
      token: organization.token,
      json: { email: newEmail },
      remoteAddress: ip(9),
    });
    expect(credentials.status).toBe(200);

    const superadmin = await api.login(SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD);
    const response = await api.get(`/org/audit?${query({ organization_name: newName })}`, { token: superadmin });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ success: true, message: expect.any(String) });
    const { items, total, page, limit } = response.body.data as { items: AuditEntry[] } & Record<string, number>;
    expect({ total, page, limit }).toEqual({ total: 10, page: 1, limit: 20 });

    const admin = { actor_id: organization.adminId, actor_role: 'admin' };
    const entry = (action: string, n: number, fields: Partial<AuditEntry>) => ({
      audit_id: expect.any(String),
      action,
      ...fields,
      at: expect.any(String),
      ip: ip(n),
      request_id: expect.stringMatching(/\S/),
    });
    expect(items).toEqual([
      entry('organization.credentials_changed', 9, {
        ...admin,
        target: organization.id,
        details: { changed: ['email'] },
      }),
      entry('organization.renamed', 8, {
        ...admin,
        target: organization.id,
        details: { from: organization.name, to: newName },
      }),
      entry('member.removed', 7, { ...admin, target: member.id }),
      entry('member.changed', 6, { ...admin, target: member.id, details: { changed: ['role'] } }),
      entry('password.changed', 5, { actor_id: member.id, actor_role: 'member', target: member.id }),
      entry('login.succeeded', 4, { actor_id: member.id, actor_role: 'member', target: member.email }),
      entry('login.failed', 3, { actor_id: null, actor_role: null, target: member.email }),
      entry('member.added', 2, { ...admin, target: member.id, details: { role: 'member' } }),
      entry('login.succeeded', 1, { ...admin, target: organization.email }),
      entry('organization.created', 1, { ...admin, target: organization.id }),
    ]);
    // Each entry tells its own request; the times never go forward down the list.
    expect(new Set(items.map((item) => item.request_id)).size).toBe(items.length);
    const times = items.map((item) => Date.parse(item.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    // The same trail by id, for the admin under its new email.
    const adminToken = await api.login(newEmail);
    const byId = await auditOf(api, organization.id, adminToken, { limit: '100' });
    expect(byId.items.slice(1)).toEqual(items);
    expect(byId.items[0]).toMatchObject({ action: 'login.succeeded', target: newEmail });
  });

  it('records failed logins, wrong password or unknown email, as login.failed', async () => {
    const organization = await api.createOrganization('Failed Logins');
    const member = await addMember(api, organization);
    const unknown = `nobody-${randomSuffix()}@example.com`;
    const wrong = await memberLogin(api, organization.name, { ...member, password: 'Wrong-password-1' }, '192.0.2.10');
    expectProblem(wrong, 401);
    expectProblem(await memberLogin(api, organization.id, { email: unknown, password: PASSWORD }, '192.0.2.11'), 401);
    expect(wrong.body.detail).toBe('Invalid email or password');

    expectProblem(await adminLogin(api, organization.email, 'Wrong-password-1', '192.0.2.12'), 401);

    const failed = await auditOf(api, organization.id, organization.token, { action: 'login.failed' });
    expect(failed.total).toBe(3);
    expect(failed.items).toEqual([
      expect.objectContaining({ actor_id: null, actor_role: null, target: organization.email, ip: '192.0.2.12' }),
      expect.objectContaining({ actor_id: null, actor_role: null, target: unknown, ip: '192.0.2.11' }),
      expect.objectContaining({ actor_id: null, actor_role: null, target: member.email, ip: '192.0.2.10' }),
    ]);
  });

  it('pages through the trail', async () => {
    const organization = await api.createOrganization('Paged');
    for (let login = 0; login < 5; login++) {
      await api.login(organization.email);
    }
    // organization.created, then 6 logins.
    const all = await auditOf(api, organization.id, organization.token, { limit: '100' });
    expect(all.total).toBe(7);
    expect(actionsOf(all.items)).toEqual([...Array(6).fill('login.succeeded'), 'organization.created']);

    const pages = [];
    for (const page of ['1', '2', '3']) {
      const found = await auditOf(api, organization.id, organization.token, { page, limit: '3' });
      expect(found).toMatchObject({ page: Number(page), limit: 3, total: 7 });
      pages.push(...found.items);
    }
    expect(pages.map((entry) => entry.audit_id)).toEqual(all.items.map((entry) => entry.audit_id));
    const beyond = await auditOf(api, organization.id, organization.token, { page: '4', limit: '3' });
    expect(beyond).toMatchObject({ items: [], total: 7 });
    const seedPath = await api.get(`/org/audit?${query({ page: '2', limit: '3' })}`, { token: organization.token });
    expect(seedPath.body.data.items).toEqual(all.items.slice(3, 6));
  });

  it('refuses times that are not RFC 3339 date-times with an offset (400, never 500)', async () => {
    const organization = await api.createOrganization('Strict Times');
    for (const time of ['2026-W01', '20260101', '2026-12-01T10', '2026-12-01T10:00:00', '2026', 'yesterday']) {
      for (const field of ['from', 'to']) {
        expectProblem(await api.get(`/org/audit?${query({ [field]: time })}`, { token: organization.token }), 400);
      }
    }
    const offset = await api.get(`/org/audit?${query({ from: '2026-01-01T10:00:00+02:00' })}`, {
      token: organization.token,
    });
    expect(offset.status).toBe(200);
  });

  it('names each entry by the request id its answer carried (X-Request-Id)', async () => {
    const organization = await api.createOrganization('Request Ids');
    const added = await api.post('/org/members', {
      token: organization.token,
      json: { email: `traced-${randomSuffix()}@example.com`, password: PASSWORD },
    });
    const requestId = added.headers['x-request-id'];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const entries = await auditOf(api, organization.id, organization.token, { action: 'member.added' });
    expect(entries.items[0].request_id).toBe(requestId);
  });

  it('filters by action and by time (from inclusive, to exclusive)', async () => {
    const organization = await api.createOrganization('Filtered');
    const member = await addMember(api, organization);
    await pause(20);
    const middle = new Date().toISOString();
    await pause(20);
    expectProblem(await memberLogin(api, organization.name, { ...member, password: 'Wrong-password-1' }), 401);
    expectSession(await memberLogin(api, organization.name, member));
    const token = organization.token;

    const added = await auditOf(api, organization.id, token, { action: 'member.added' });
    expect(added).toMatchObject({ total: 1, items: [{ action: 'member.added', target: member.id }] });
    const logins = await auditOf(api, organization.id, token, { action: 'login.succeeded' });
    expect(logins.items.map((entry) => entry.target)).toEqual([member.email, organization.email]);

    const after = await auditOf(api, organization.id, token, { from: middle });
    expect(actionsOf(after.items)).toEqual(['login.succeeded', 'login.failed']);
    const before = await auditOf(api, organization.id, token, { to: middle });
    expect(actionsOf(before.items)).toEqual(['member.added', 'login.succeeded', 'organization.created']);
    const both = await auditOf(api, organization.id, token, {
      from: middle,
      to: new Date(Date.now() + 60_000).toISOString(),
      action: 'login.failed',
    });
    expect(both).toMatchObject({ total: 1, items: [{ action: 'login.failed', target: member.email }] });
    const exact = await auditOf(api, organization.id, token, { from: after.items[1].at, to: after.items[0].at });
    expect(exact.items.map((entry) => entry.audit_id)).toEqual([after.items[1].audit_id]);

    const invalid: Array<Record<string, string>> = [
      { action: 'organization.exploded' },
      { from: 'yesterday' },
      { to: '2026-13-01T00:00:00Z' },
      { limit: '101' },
      { page: '0' },
    ];
    for (const params of invalid) {
      expectProblem(await api.get(`/org/audit?${query(params)}`, { token }), 400);
    }
  });

  it("is for the organization's admins and superadmins only", async () => {
    const organization = await api.createOrganization('Private Trail');
    const other = await api.createOrganization('Nosy');
    const member = await addMember(api, organization);
    const memberAdmin = await addMember(api, organization, 'admin');
    const memberToken = expectSession(await memberLogin(api, organization.name, member)).access_token;
    const memberAdminToken = expectSession(await memberLogin(api, organization.name, memberAdmin)).access_token;
    const superadmin = await api.login(SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD);
    const byName = `/org/audit?${query({ organization_name: organization.name })}`;
    const byId = `/api/v1/organizations/${organization.id}/audit`;

    expect((await api.get('/org/audit', { token: memberAdminToken })).status).toBe(200);
    expect((await api.get(byId, { token: superadmin })).status).toBe(200);
    expectProblem(await api.get(byName), 401);
    expectProblem(await api.get(byId), 401);
    expectProblem(await api.get(byName, { token: other.token }), 403);
    expectProblem(await api.get(byId, { token: other.token }), 403);
    expectProblem(await api.get('/org/audit', { token: memberToken }), 403);
    expectProblem(await api.get(byId, { token: memberToken }), 403);
    expectProblem(await api.get('/org/audit', { token: superadmin }), 400);
    expectProblem(
      await api.get(`/org/audit?${query({ organization_name: `Nope ${randomSuffix()}` })}`, { token: superadmin }),
      404,
    );
    expectProblem(await api.get('/api/v1/organizations/not-an-id/audit', { token: superadmin }), 400);
    expectProblem(await api.get('/api/v1/organizations/0123456789abcdef01234567/audit', { token: superadmin }), 404);
    // The other organization's trail holds nothing of this one.
    const nosy = await auditOf(api, other.id, other.token, { limit: '100' });
    expect(actionsOf(nosy.items)).toEqual(['login.succeeded', 'organization.created']);
  });
});

describe('/api/v1/organizations (e2e)', () => {
  const { api } = useTestApp({ env: { SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD } });

  async function createV1(prefix: string): Promise<Organization> {
    const suffix = randomSuffix();
    const name = `${prefix} ${suffix}`;
    const email = `v1-${suffix}@example.com`;
    const created = await api.post('/api/v1/organizations', {
      json: { organization_name: name, email, password: PASSWORD },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      success: true,
      data: {
        organization_id: expect.stringMatching(/^[0-9a-f]{24}$/),
        organization_name: name,
        admin_email: email,
        admin_id: expect.any(String),
        is_active: true,
      },
    });
    return {
      name,
      email,
      password: PASSWORD,
      id: created.body.data.organization_id,
      adminId: created.body.data.admin_id,
      token: await api.login(email),
    };
  }

  it('creates an organization, and refuses a duplicate name or invalid input', async () => {
    const organization = await createV1('V1 Create');
    const seed = await api.get(`/org/get?${query({ organization_name: organization.name })}`);
    expect(seed.body.data.organization_id).toBe(organization.id);
    const duplicate = await api.post('/api/v1/organizations', {
      json: {
        organization_name: organization.name.toUpperCase(),
        email: `x-${randomSuffix()}@example.com`,
        password: PASSWORD,
      },
    });
    expectProblem(duplicate, 409);
    expectProblem(await api.post('/api/v1/organizations', { json: { organization_name: 'x' } }), 400);
  });

  it('gets one by id, showing admin_email only to its admins and superadmins', async () => {
    const organization = await createV1('V1 Get');
    const other = await createV1('V1 Other');
    const memberAdmin = await addMember(api, organization, 'admin');
    const member = await addMember(api, organization);
    const tokenOf = async (who: Member) => expectSession(await memberLogin(api, organization.name, who)).access_token;
    const url = `/api/v1/organizations/${organization.id}`;

    const seen = async (token?: string) => {
      const response = await api.get(url, { token });
      expect(response.status).toBe(200);
      expect(response.body.data).toMatchObject({
        organization_id: organization.id,
        organization_name: organization.name,
      });
      return response.body.data.admin_email;
    };
    expect(await seen(organization.token)).toBe(organization.email);
    expect(await seen(await api.login(SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD))).toBe(organization.email);
    expect(await seen(await tokenOf(memberAdmin))).toBe(organization.email);
    expect(await seen()).toBeUndefined();
    expect(await seen(other.token)).toBeUndefined();
    expect(await seen(await tokenOf(member))).toBeUndefined();
    const seedPath = await api.get(`/org/get?${query({ organization_name: organization.name })}`, {
      token: await tokenOf(memberAdmin),
    });
    expect(seedPath.body.data.admin_email).toBe(organization.email);

    expectProblem(await api.get('/api/v1/organizations/0123456789abcdef01234567'), 404);
  });

  it('lists organizations for a superadmin only', async () => {
    const organization = await createV1('V1 Listed');
    const member = await addMember(api, organization, 'admin');
    const superadmin = await api.login(SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD);
    const list = await api.get(`/api/v1/organizations?${query({ limit: '100' })}`, { token: superadmin });
    expect(list.status).toBe(200);
    expect(list.body.data).toMatchObject({ page: 1, limit: 100, total: expect.any(Number) });
    expect(list.body.data.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ organization_id: organization.id, admin_email: organization.email }),
      ]),
    );
    const firstPage = await api.get(`/api/v1/organizations?${query({ limit: '1' })}`, { token: superadmin });
    expect(firstPage.body.data.items).toHaveLength(1);

    expectProblem(await api.get('/api/v1/organizations'), 401);
    expectProblem(await api.get('/api/v1/organizations', { token: organization.token }), 403);
    const memberToken = expectSession(await memberLogin(api, organization.name, member)).access_token;
    expectProblem(await api.get('/api/v1/organizations', { token: memberToken }), 403);
    expectProblem(await api.get(`/api/v1/organizations?${query({ limit: '101' })}`, { token: superadmin }), 400);
  });

  it('renames by id: the same id shows the new name, and the old token keeps working', async () => {
    const organization = await createV1('V1 Rename');
    const url = `/api/v1/organizations/${organization.id}`;
    const newName = `V1 Renamed ${randomSuffix()}`;
    const renamed = await patch(api, url, { token: organization.token, json: { organization_name: newName } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.data).toMatchObject({ organization_id: organization.id, organization_name: newName });

    const after = await api.get(url);
    expect(after.body.data).toMatchObject({ organization_id: organization.id, organization_name: newName });
    expectProblem(await api.get(`/org/get?${query({ organization_name: organization.name })}`), 404);
    const me = await api.get('/admin/me', { token: organization.token });
    expect(me.status).toBe(200);
    expect(me.body.data).toMatchObject({ organization_id: organization.id, organization_name: newName });
    // And it may go on managing the organization by id. The name it left stays reserved a while.
    const reclaim = await patch(api, url, {
      token: organization.token,
      json: { organization_name: organization.name },
    });
    expectProblem(reclaim, 409);
    expect(Number(reclaim.headers['retry-after'])).toBeGreaterThan(0);
    const third = `V1 Renamed Again ${randomSuffix()}`;
    const again = await patch(api, url, { token: organization.token, json: { organization_name: third } });
    expect(again.status).toBe(200);
    expect(again.body.data).toMatchObject({ organization_id: organization.id, organization_name: third });
  });

  it('deletes by id: then 404, and its tokens stop working', async () => {
    const organization = await createV1('V1 Delete');
    const url = `/api/v1/organizations/${organization.id}`;
    const removal = await api.delete(url, { token: organization.token });
    expect(removal.status).toBe(200);
    expect(removal.body.data).toMatchObject({ organization_name: organization.name });
    expectProblem(await api.get(url), 404);
    expectProblem(await api.get('/admin/me', { token: organization.token }), 401);
    const superadmin = await api.login(SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD);
    expectProblem(await api.delete(url, { token: superadmin }), 404);
    expectProblem(await patch(api, url, { token: superadmin, json: { organization_name: 'Ghost Town' } }), 404);
  });

  it("refuses another organization's admin and a member admin (403), and changes nothing", async () => {
    const organization = await createV1('V1 Guarded');
    const other = await createV1('V1 Intruder');
    const memberAdmin = await addMember(api, organization, 'admin');
    const memberAdminToken = expectSession(await memberLogin(api, organization.name, memberAdmin)).access_token;
    const url = `/api/v1/organizations/${organization.id}`;
    for (const token of [other.token, memberAdminToken]) {
      expectProblem(await patch(api, url, { token, json: { organization_name: `Taken ${randomSuffix()}` } }), 403);
      expectProblem(await patch(api, url, { token, json: { password: NEW_PASSWORD } }), 403);
      expectProblem(await api.delete(url, { token }), 403);
    }
    expectProblem(await api.delete(url), 401);
    expect((await api.get(url)).body.data.organization_name).toBe(organization.name);
    expectSession(await adminLogin(api, organization.email));
  });

  it('answers 400 for a malformed id or an empty change', async () => {
    const organization = await createV1('V1 Malformed');
    const superadmin = await api.login(SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD);
    for (const id of ['not-an-id', '123', `${organization.id}0`, '%24ne', 'a'.repeat(500)]) {
      const url = `/api/v1/organizations/${id}`;
      expectProblem(await api.get(url), 400);
      expectProblem(await patch(api, url, { token: superadmin, json: { organization_name: 'Whatever' } }), 400);
      expectProblem(await api.delete(url, { token: superadmin }), 400);
    }
    const url = `/api/v1/organizations/${organization.id}`;
    expectProblem(await patch(api, url, { token: organization.token, json: {} }), 400);
    expectProblem(await patch(api, url, { token: organization.token, json: { organization_name: '!' } }), 400);
    expectProblem(await patch(api, url, { token: organization.token, json: { new_organization_name: 'X Y' } }), 400);
    const member = await addMember(api, organization);
    const memberUrl = `${url}/members/${member.id}`;
    expectProblem(await patch(api, memberUrl, { token: organization.token, json: {} }), 400);
    expectProblem(await api.get(`${url}/members/${'a'.repeat(500)}`, { token: organization.token }), 400);
  });
});

describe('Rate limits on member logins, refreshes and member creation (e2e)', () => {
  const LIMIT = 4;
  const CEILING = 12;
  const CREATES = 3;
  const { api } = useTestApp({
    env: {
      LOGIN_RATE_LIMIT: String(LIMIT),
      LOGIN_FAILURE_CEILING: String(CEILING),
      LOGIN_RATE_WINDOW_SECONDS: '60',
      CREATE_RATE_LIMIT: String(CREATES),
      CREATE_GLOBAL_RATE_LIMIT: '1000',
      CREATE_RATE_WINDOW_SECONDS: '60',
    },
  });

  function expectTooMany(response: ApiResponse): void {
    expectProblem(response, 429);
    const retryAfter = Number(response.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  }

  it('limits failed member logins per email and address (LOGIN_RATE_LIMIT)', async () => {
    const organization = await createOrganizationFrom(api, 'Limited Logins', '10.20.0.1');
    const member = await addMember(api, organization);
    const wrong = { ...member, password: 'Wrong-password-1' };
    for (let attempt = 1; attempt <= LIMIT; attempt++) {
      expectProblem(await memberLogin(api, organization.name, wrong, '10.20.1.1'), 401);
    }
    expectTooMany(await memberLogin(api, organization.name, wrong, '10.20.1.1'));
    expectTooMany(await memberLogin(api, organization.name, member, '10.20.1.1'));
    expectTooMany(await memberLogin(api, organization.id, member, '10.20.1.1', '/api/v1/auth/login'));
    // The member, from anywhere else, is not locked out.
    expectSession(await memberLogin(api, organization.name, member, '10.20.1.2'));
  });

  it('limits failed logins from one address, whatever the email (LOGIN_FAILURE_CEILING)', async () => {
    const organization = await createOrganizationFrom(api, 'Ceiling', '10.21.0.1');
    for (let attempt = 1; attempt <= CEILING; attempt++) {
      const guess = { email: `guess-${attempt}-${randomSuffix()}@example.com`, password: PASSWORD };
      expectProblem(await memberLogin(api, organization.name, guess, '10.21.1.1'), 401);
    }
    const next = { email: `guess-next-${randomSuffix()}@example.com`, password: PASSWORD };
    expectTooMany(await memberLogin(api, organization.name, next, '10.21.1.1'));
    expectProblem(await memberLogin(api, organization.name, next, '10.21.1.2'), 401);
  });

  it('limits failed refreshes from one address (LOGIN_FAILURE_CEILING), and does not use up the token it refuses', async () => {
    const organization = await createOrganizationFrom(api, 'Limited Refresh', '10.22.0.1');
    const member = await addMember(api, organization);
    let session = expectSession(await memberLogin(api, organization.name, member, '10.22.1.1'));
    // Successes are not counted.
    for (let attempt = 1; attempt <= LIMIT * 2; attempt++) {
      session = expectSession(await refresh(api, session.refresh_token, { remoteAddress: '10.22.1.1' }));
    }
    // Each guess is a token of its own: only the address's ceiling stops them.
    for (let attempt = 1; attempt <= CEILING; attempt++) {
      expectProblem(await refresh(api, `guessed-${attempt}-${randomSuffix()}`, { remoteAddress: '10.22.1.1' }), 401);
    }
    expectTooMany(await refresh(api, `guessed-${randomSuffix()}`, { remoteAddress: '10.22.1.1' }));
    expectTooMany(await refresh(api, session.refresh_token, { remoteAddress: '10.22.1.1' }));
    expectTooMany(
      await refresh(api, session.refresh_token, { remoteAddress: '10.22.1.1', path: '/api/v1/auth/refresh' }),
    );
    // Refused before it was looked at: the same token still works from elsewhere, once.
    expectSession(await refresh(api, session.refresh_token, { remoteAddress: '10.22.1.2' }));
    expectProblem(await refresh(api, session.refresh_token, { remoteAddress: '10.22.1.3' }), 401);
  });

  it('counts organization creates at /org/create and /api/v1/organizations together (CREATE_RATE_LIMIT)', async () => {
    const create = (path: string) => {
      const suffix = randomSuffix();
      return api.post(path, {
        json: { organization_name: `Both Paths ${suffix}`, email: `both-${suffix}@example.com`, password: PASSWORD },
        remoteAddress: '10.24.1.1',
      });
    };
    for (let attempt = 1; attempt <= CREATES; attempt++) {
      expect((await create(attempt % 2 ? '/org/create' : '/api/v1/organizations')).status).toBe(201);
    }
    expectTooMany(await create('/org/create'));
    expectTooMany(await create('/api/v1/organizations'));
  });

  it('limits member creation per address (CREATE_RATE_LIMIT)', async () => {
    const organization = await createOrganizationFrom(api, 'Limited Members', '10.23.0.1');
    for (let attempt = 1; attempt <= CREATES; attempt++) {
      await addMember(api, organization, 'member', '10.23.1.1');
    }
    const tooMany = await api.post('/org/members', {
      token: organization.token,
      json: { email: `one-too-many-${randomSuffix()}@example.com`, password: PASSWORD },
      remoteAddress: '10.23.1.1',
    });
    expectTooMany(tooMany);
    // Nothing was added by the refused request; another address may still add.
    await addMember(api, organization, 'member', '10.23.1.2');
    const list = await api.get('/org/members', { token: organization.token });
    expect(list.body.data.total).toBe(1 + CREATES + 1);
  });

  it('limits wrong current passwords at POST /auth/password as failed logins, and records them', async () => {
    const organization = await createOrganizationFrom(api, 'Password Guesses', '10.25.0.1');
    const member = await addMember(api, organization, 'member', '10.25.0.1');
    const session = expectSession(await memberLogin(api, organization.name, member, '10.25.0.1'));
    const change = (current: string) =>
      api.post('/auth/password', {
        token: session.access_token,
        json: { current_password: current, new_password: NEW_PASSWORD },
        remoteAddress: '10.25.1.1',
      });
    for (let attempt = 1; attempt <= LIMIT; attempt++) {
      expectProblem(await change(`Guess-number-${attempt}`), 401);
    }
    expectTooMany(await change(member.password));
    const failed = await auditOf(api, organization.id, organization.token, { action: 'password.change_failed' });
    expect(failed.total).toBe(LIMIT);
    expect(failed.items[0]).toMatchObject({ actor_id: member.id, target: member.id, ip: '10.25.1.1' });
    // Refused before it was tried: the password is unchanged, and the session still works.
    expect((await api.get('/admin/me', { token: session.access_token })).status).toBe(200);
  });
});
