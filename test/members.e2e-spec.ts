import { mongo } from 'mongoose';
import { toSlug } from '../src/organizations/organization-name';
import { TenantStorageService } from '../src/tenancy/tenant-storage.service';
import { Api, ApiResponse, expectProblem, Organization, PASSWORD, query, RequestOptions } from './support/api';
import { eventually } from './support/eventually';
import { randomSuffix } from './support/random';
import { storageNameOf, TenantStorage } from './support/tenant-storage';
import { mode, startTestApp, TestApp, useTestApp } from './support/test-app';

/**
 * Members and the audit trail, kept in each organization's own storage: who may reach them (by the
 * seed paths and by /api/v1), emails unique per organization only, tokens that stop at once, the
 * first admin who stays, and a rename or delete (finished or interrupted) that takes all of it along.
 * Outcomes are checked through the API and in the database.
 */

const SUPERADMIN_EMAIL = 'root-members@example.com';
const SUPERADMIN_PASSWORD = 'SuperSecret123!';
const OTHER_PASSWORD = 'AnotherPassword456!';

/** `/org/members?organization_name=` (the seed paths) or `/api/v1/organizations/{id}/members`. */
type PathForm = 'seed' | 'v1';
const PATH_FORMS: PathForm[] = ['seed', 'v1'];

interface OrganizationRef {
  name: string;
  id: string;
}

interface Member {
  id: string;
  email: string;
  password: string;
  organization: OrganizationRef;
}

/** The members of an organization, or one of them, at either path form. */
function membersUrl(form: PathForm, organization: OrganizationRef, memberId?: string): string {
  const one = memberId ? `/${memberId}` : '';
  return form === 'seed'
    ? `/org/members${one}?${query({ organization_name: organization.name })}`
    : `/api/v1/organizations/${organization.id}/members${one}`;
}

function auditUrl(form: PathForm, organization: OrganizationRef): string {
  return form === 'seed'
    ? `/org/audit?${query({ organization_name: organization.name })}`
    : `/api/v1/organizations/${organization.id}/audit`;
}

const patch = (api: Api, url: string, options: RequestOptions) => api.request('PATCH', url, options);

async function addMember(
  api: Api,
  token: string,
  organization: OrganizationRef,
  { role, email = `member-${randomSuffix()}@example.com`, password = PASSWORD, form = 'seed' as PathForm } = {} as {
    role?: 'admin' | 'member';
    email?: string;
    password?: string;
    form?: PathForm;
  },
): Promise<Member> {
  const response = await api.post(membersUrl(form, organization), {
    token,
    json: { email, password, ...(role ? { role } : {}) },
  });
  expect(response.status).toBe(201);
  expect(response.body.data).toMatchObject({
    email,
    role: role ?? 'member',
    is_owner: false,
    organization_id: organization.id,
  });
  return { id: response.body.data.member_id, email, password, organization };
}

const loginRequest = (api: Api, email: string, password: string, organization: string) =>
  api.post('/auth/login', { json: { email, password, organization } });

/** Logs a member in to its organization (by name unless told), for its access and refresh tokens. */
async function logIn(
  api: Api,
  member: Member,
  organization = member.organization.name,
): Promise<{ access_token: string; refresh_token: string; organization_id: string; role: string }> {
  const response = await loginRequest(api, member.email, member.password, organization);
  expect(response.status).toBe(200);
  return response.body;
}

/** Each request with its label, so that a failure names the one that answered wrongly. */
async function expectStatuses(status: number, requests: Record<string, () => Promise<ApiResponse>>): Promise<void> {
  const answered: Record<string, number> = {};
  for (const [label, request] of Object.entries(requests)) {
    const response = await request();
    answered[label] = response.status;
    if (response.status >= 400) {
      expectProblem(response, response.status);
    }
  }
  expect(answered).toEqual(Object.fromEntries(Object.keys(requests).map((label) => [label, status])));
}

const idsOf = (documents: mongo.Document[]) => documents.map((document) => document._id.toString());

/** What the database holds of an organization's members and audit trail, under its current name. */
async function storedOf(storage: TenantStorage, name: string) {
  return {
    members: await storage.documents(storageNameOf(name), 'members'),
    audit: await storage.documents(storageNameOf(name), 'audit'),
  };
}

/** No collection under the name is left (an aside neither), nor an aside waiting to be settled. */
async function expectNothingLeftUnder(storage: TenantStorage, name: string): Promise<void> {
  expect(await storage.listed(storageNameOf(name), { collections: true })).toEqual([]);
  expect(await storage.count(storageNameOf(name), 'members')).toBe(0);
  expect(await storage.count(storageNameOf(name), 'audit')).toBe(0);
  expect(await storage.client.db(storage.master).collection('tenant_asides').countDocuments()).toBe(0);
}

describe('Members (e2e)', () => {
  const { testApp, api } = useTestApp({ env: { SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD } });
  const storage = () => testApp().storage;

  /** An organization with a member and an admin member, each logged in once (audit entries). */
  async function organizationWithMembers(prefix: string) {
    const organization = await api.createOrganization(prefix);
    const member = await addMember(api, organization.token, organization);
    const admin = await addMember(api, organization.token, organization, { role: 'admin', form: 'v1' });
    const memberSession = await logIn(api, member);
    const adminSession = await logIn(api, admin);
    return { organization, member, admin, memberSession, adminSession };
  }

  /** What an organization's own admin sees of its members and audit trail. */
  async function seenBy(organization: Organization) {
    const members = await api.get(membersUrl('v1', organization), { token: organization.token });
    const audit = await api.get(`${auditUrl('v1', organization)}?limit=100`, { token: organization.token });
    expect(members.status).toBe(200);
    expect(audit.status).toBe(200);
    return { members: members.body.data, audit: audit.body.data };
  }

  it('adds a member who logs in to its organization, with the first admin listed first', async () => {
    const acme = await api.createOrganization('Acme');
    const jane = await addMember(api, acme.token, acme);
    const list = await api.get('/org/members', { token: acme.token });
    expect(list.status).toBe(200);
    expect(list.body.data.items).toEqual([
      expect.objectContaining({ member_id: acme.adminId, email: acme.email, role: 'admin', is_owner: true }),
      expect.objectContaining({ member_id: jane.id, email: jane.email, role: 'member', is_owner: false }),
    ]);
    const session = await logIn(api, jane);
    expect(session).toMatchObject({ role: 'member', organization_id: acme.id, refresh_token: expect.any(String) });
    const me = await api.get('/admin/me', { token: session.access_token });
    expect(me.body.data).toMatchObject({
      role: 'member',
      is_member: true,
      email: jane.email,
      organization_id: acme.id,
    });
    const stored = await storage().documents(storageNameOf(acme.name), 'members');
    expect(stored).toEqual([expect.objectContaining({ email: jane.email, role: 'member', token_version: 0 })]);
    expect(stored[0]._id.toString()).toBe(jane.id);
  });

  it('pages the list with the first admin first, and filters it by role', async () => {
    const { organization, member, admin } = await organizationWithMembers('Pager');
    const third = await addMember(api, organization.token, organization);
    const page = async (params: Record<string, string>) => {
      const response = await api.get(`/org/members?${query(params)}`, { token: organization.token });
      expect(response.status).toBe(200);
      return {
        ids: response.body.data.items.map((item: { member_id: string }) => item.member_id),
        total: response.body.data.total,
      };
    };
    expect(await page({ limit: '1' })).toEqual({ ids: [organization.adminId], total: 4 });
    expect(await page({ limit: '1', page: '2' })).toEqual({ ids: [member.id], total: 4 });
    expect(await page({ limit: '2', page: '2' })).toEqual({ ids: [admin.id, third.id], total: 4 });
    expect(await page({ limit: '3', page: '2' })).toEqual({ ids: [third.id], total: 4 });
    expect(await page({ role: 'admin' })).toEqual({ ids: [organization.adminId, admin.id], total: 2 });
    expect(await page({ role: 'member' })).toEqual({ ids: [member.id, third.id], total: 2 });
  });

  describe('between organizations', () => {
    it("keeps an admin of one organization out of another's members and audit trail, by either path", async () => {
      const alpha = await organizationWithMembers('Alpha');
      const beta = await organizationWithMembers('Beta');
      const b = beta.organization;
      const before = { api: await seenBy(b), stored: await storedOf(storage(), b.name) };
      expect(before.stored.members).toHaveLength(2);

      for (const [who, token] of [
        ['first admin', alpha.organization.token],
        ['admin member', alpha.adminSession.access_token],
      ]) {
        for (const form of PATH_FORMS) {
          const intruder = { email: `intruder-${randomSuffix()}@example.com`, password: PASSWORD, role: 'admin' };
          await expectStatuses(403, {
            [`${who} ${form}: list`]: () => api.get(membersUrl(form, b), { token }),
            [`${who} ${form}: read`]: () => api.get(membersUrl(form, b, beta.member.id), { token }),
            [`${who} ${form}: read first admin`]: () => api.get(membersUrl(form, b, b.adminId), { token }),
            [`${who} ${form}: add`]: () => api.post(membersUrl(form, b), { token, json: intruder }),
            [`${who} ${form}: change`]: () =>
              patch(api, membersUrl(form, b, beta.member.id), {
                token,
                json: { role: 'admin', password: OTHER_PASSWORD },
              }),
            [`${who} ${form}: remove`]: () => api.delete(membersUrl(form, b, beta.admin.id), { token }),
            [`${who} ${form}: remove first admin`]: () => api.delete(membersUrl(form, b, b.adminId), { token }),
            [`${who} ${form}: audit`]: () => api.get(auditUrl(form, b), { token }),
          });
        }
        // Another organization's member id, under the caller's own organization: not there.
        await expectStatuses(404, {
          [`${who}: own path, read`]: () => api.get(`/org/members/${beta.member.id}`, { token }),
          [`${who}: own path, change`]: () =>
            patch(api, `/org/members/${beta.member.id}`, { token, json: { role: 'admin' } }),
          [`${who}: own path, remove`]: () => api.delete(`/org/members/${beta.member.id}`, { token }),
          [`${who}: own v1 path, remove`]: () =>
            api.delete(membersUrl('v1', alpha.organization, beta.member.id), { token }),
        });
      }

      expect(await seenBy(b)).toEqual(before.api);
      expect(await storedOf(storage(), b.name)).toEqual(before.stored);
      // Its member's credentials and role are untouched: the old password still logs in, as a member.
      expect(await logIn(api, beta.member)).toMatchObject({ role: 'member', organization_id: b.id });
      expect((await api.get('/admin/me', { token: beta.memberSession.access_token })).status).toBe(200);
    });

    it('answers 404 for an organization that does not exist, by either path', async () => {
      const organization = await api.createOrganization('Lonely');
      const nowhere = { name: `Nowhere ${randomSuffix()}`, id: new mongo.ObjectId().toString() };
      for (const form of PATH_FORMS) {
        await expectStatuses(404, {
          [`${form}: list`]: () => api.get(membersUrl(form, nowhere), { token: organization.token }),
          [`${form}: add`]: () =>
            api.post(membersUrl(form, nowhere), {
              token: organization.token,
              json: { email: `ghost-${randomSuffix()}@example.com`, password: PASSWORD },
            }),
          [`${form}: audit`]: () => api.get(auditUrl(form, nowhere), { token: organization.token }),
        });
      }
    });
  });

  it('lets a superadmin reach any organization by name or id, and asks it to name one (400)', async () => {
    const { organization, member } = await organizationWithMembers('Overseen');
    const token = await api.login(SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD);
    for (const form of PATH_FORMS) {
      const list = await api.get(membersUrl(form, organization), { token });
      expect(list.status).toBe(200);
      expect(list.body.data.total).toBe(3);
      expect((await api.get(membersUrl(form, organization, member.id), { token })).body.data.email).toBe(member.email);
      expect((await api.get(auditUrl(form, organization), { token })).status).toBe(200);
    }
    expectProblem(await api.get('/org/members', { token }), 400);
    expectProblem(await api.get('/org/audit', { token }), 400);
  });

  describe('roles', () => {
    it('refuses a member (403) every member and audit route, by either path, and changes nothing', async () => {
      const { organization, member, admin, memberSession } = await organizationWithMembers('Crew');
      const token = memberSession.access_token;
      const before = await storedOf(storage(), organization.name);
      const newcomer = { email: `newcomer-${randomSuffix()}@example.com`, password: PASSWORD };
      await expectStatuses(403, {
        'own list': () => api.get('/org/members', { token }),
        'own audit': () => api.get('/org/audit', { token }),
        'own add': () => api.post('/org/members', { token, json: newcomer }),
        'own read': () => api.get(`/org/members/${member.id}`, { token }),
        'own promote': () => patch(api, `/org/members/${member.id}`, { token, json: { role: 'admin' } }),
      });
      for (const form of PATH_FORMS) {
        await expectStatuses(403, {
          [`${form}: list`]: () => api.get(membersUrl(form, organization), { token }),
          [`${form}: read`]: () => api.get(membersUrl(form, organization, admin.id), { token }),
          [`${form}: add`]: () => api.post(membersUrl(form, organization), { token, json: newcomer }),
          [`${form}: promote self`]: () =>
            patch(api, membersUrl(form, organization, member.id), { token, json: { role: 'admin' } }),
          [`${form}: demote admin`]: () =>
            patch(api, membersUrl(form, organization, admin.id), { token, json: { role: 'member' } }),
          [`${form}: remove admin`]: () => api.delete(membersUrl(form, organization, admin.id), { token }),
          [`${form}: audit`]: () => api.get(auditUrl(form, organization), { token }),
        });
      }
      expect(await storedOf(storage(), organization.name)).toEqual(before);
      expect((await api.get('/admin/me', { token })).body.data).toMatchObject({ role: 'member', is_member: true });
    });

    it.each(PATH_FORMS)('lets an admin member manage members and read the trail (%s path)', async (form) => {
      const { organization, admin, adminSession } = await organizationWithMembers('Managed');
      const token = adminSession.access_token;

      const list = await api.get(membersUrl(form, organization), { token });
      expect(list.status).toBe(200);
      expect(list.body.data.total).toBe(3);
      expect(list.body.data.items[0]).toMatchObject({ member_id: organization.adminId, is_owner: true });
      const added = await addMember(api, token, organization, { form });
      expect((await api.get(membersUrl(form, organization, added.id), { token })).body.data).toMatchObject({
        email: added.email,
        role: 'member',
      });
      const promoted = await patch(api, membersUrl(form, organization, added.id), { token, json: { role: 'admin' } });
      expect(promoted.status).toBe(200);
      expect(promoted.body.data).toMatchObject({ member_id: added.id, role: 'admin' });
      expect((await api.delete(membersUrl(form, organization, added.id), { token })).status).toBe(200);
      expect(await storage().count(storageNameOf(organization.name), 'members', { email: added.email })).toBe(0);

      const audit = await api.get(auditUrl(form, organization), { token });
      expect(audit.status).toBe(200);
      const byAdmin = audit.body.data.items.filter((entry: { actor_id: string }) => entry.actor_id === admin.id);
      expect(byAdmin.map((entry: { action: string; target: string }) => [entry.action, entry.target])).toEqual([
        ['member.removed', added.id],
        ['member.changed', added.id],
        ['member.added', added.id],
        ['login.succeeded', admin.email],
      ]);
    });
  });

  describe('emails', () => {
    it('collide within an organization only, the first admin included', async () => {
      const north = await api.createOrganization('North');
      const south = await api.createOrganization('South');
      const email = `shared-${randomSuffix()}@example.com`;
      const inNorth = await addMember(api, north.token, north, { email });

      await expectStatuses(409, {
        'same email, seed path': () =>
          api.post(membersUrl('seed', north), { token: north.token, json: { email, password: PASSWORD } }),
        'same email in another case, v1 path': () =>
          api.post(membersUrl('v1', north), {
            token: north.token,
            json: { email: email.toUpperCase(), password: OTHER_PASSWORD },
          }),
        "first admin's email": () =>
          api.post(membersUrl('seed', north), { token: north.token, json: { email: north.email, password: PASSWORD } }),
        "first admin's email, v1 path, as an admin": () =>
          api.post(membersUrl('v1', north), {
            token: north.token,
            json: { email: north.email, password: PASSWORD, role: 'admin' },
          }),
      });
      const other = await addMember(api, north.token, north);
      await expectStatuses(409, {
        "changed to a member's email": () =>
          patch(api, membersUrl('seed', north, other.id), { token: north.token, json: { email } }),
        "changed to the first admin's email": () =>
          patch(api, membersUrl('v1', north, other.id), { token: north.token, json: { email: north.email } }),
      });
      expect(await storage().count(storageNameOf(north.name), 'members', { email })).toBe(1);
      expect(await storage().count(storageNameOf(north.name), 'members', { email: north.email })).toBe(0);

      // The same email, with a password of its own, in another organization; and North's first
      // admin's email as a member of South.
      const inSouth = await addMember(api, south.token, south, { email, password: OTHER_PASSWORD, form: 'v1' });
      expect(inSouth.id).not.toBe(inNorth.id);
      const northAdminInSouth = await addMember(api, south.token, south, { email: north.email });

      const northSession = await logIn(api, inNorth);
      const southSession = await logIn(api, inSouth, south.id);
      expect(northSession).toMatchObject({ organization_id: north.id, role: 'member' });
      expect(southSession).toMatchObject({ organization_id: south.id, role: 'member' });
      for (const [session, organization, member] of [
        [northSession, north, inNorth],
        [southSession, south, inSouth],
      ] as const) {
        const me = await api.get('/admin/me', { token: session.access_token });
        expect(me.body.data).toMatchObject({
          admin_id: member.id,
          email,
          organization_id: organization.id,
          organization_name: organization.name,
          is_member: true,
        });
      }
      // Each organization's password opens that organization only.
      expectProblem(await loginRequest(api, email, OTHER_PASSWORD, north.name), 401);
      expectProblem(await loginRequest(api, email, PASSWORD, south.name), 401);
      // North's first admin's email: the first admin at North, a member at South.
      const asMember = await logIn(api, northAdminInSouth);
      expect(asMember).toMatchObject({ organization_id: south.id, role: 'member' });
      const asAdmin = await loginRequest(api, north.email, PASSWORD, north.name);
      expect(asAdmin.body).toMatchObject({ organization_id: north.id, role: 'admin', admin_id: north.adminId });
      expect((await api.post('/admin/login', { json: { email: north.email, password: PASSWORD } })).body).toMatchObject(
        { organization_id: north.id, admin_id: north.adminId },
      );
    });

    it("refuses the first admin a member's email of its organization (409)", async () => {
      const organization = await api.createOrganization('Taken');
      const member = await addMember(api, organization.token, organization);
      const changed = await api.put('/org/update', {
        token: organization.token,
        json: { organization_name: organization.name, email: member.email },
      });
      expectProblem(changed, 409);
      expect(await storage().admins().countDocuments({ email: member.email })).toBe(0);
      expect(await logIn(api, member)).toMatchObject({ admin_id: member.id, role: 'member' });
    });
  });

  describe('revocation', () => {
    /** A member's access and refresh tokens both still work, or both no longer do. */
    async function expectTokens(session: { access_token: string; refresh_token: string }, working: boolean) {
      const me = await api.get('/admin/me', { token: session.access_token });
      const refreshed = await api.post('/auth/refresh', { json: { refresh_token: session.refresh_token } });
      if (working) {
        expect([me.status, refreshed.status]).toEqual([200, 200]);
        return refreshed.body as { access_token: string; refresh_token: string };
      }
      expectProblem(me, 401);
      expectProblem(refreshed, 401);
      return undefined;
    }

    it.each(PATH_FORMS)("stops a removed member's access and refresh tokens at once (%s path)", async (form) => {
      const organization = await api.createOrganization('Leaver');
      const member = await addMember(api, organization.token, organization);
      const session = await logIn(api, member);
      const rotated = await logIn(api, member);

      const removed = await api.delete(membersUrl(form, organization, member.id), { token: organization.token });
      expect(removed.status).toBe(200);
      expect(removed.body.data).toEqual({ member_id: member.id });
      await expectTokens(session, false);
      await expectTokens(rotated, false);
      expectProblem(await loginRequest(api, member.email, member.password, organization.name), 401);
      expectProblem(await api.get(membersUrl(form, organization, member.id), { token: organization.token }), 404);
      expect(await storage().count(storageNameOf(organization.name), 'members')).toBe(0);
    });

    it.each([
      ['role', { role: 'admin' }],
      ['password', { password: OTHER_PASSWORD }],
      ['email', { email: `renamed-${randomSuffix()}@example.com` }],
    ] as Array<[string, { role?: string; password?: string; email?: string }]>)(
      "revokes a member's tokens when an admin changes its %s",
      async (_field, change) => {
        const organization = await api.createOrganization('Changed');
        const member = await addMember(api, organization.token, organization);
        const session = await logIn(api, member);
        // Sending what is stored already is no change and revokes nothing.
        const same = await patch(api, membersUrl('v1', organization, member.id), {
          token: organization.token,
          json: { role: 'member', email: member.email, password: member.password },
        });
        expect(same.status).toBe(200);
        const kept = (await expectTokens(session, true))!;

        const changed = await patch(api, membersUrl('seed', organization, member.id), {
          token: organization.token,
          json: change,
        });
        expect(changed.status).toBe(200);
        await expectTokens(kept, false);
        const now = { ...member, ...change };
        expect(await logIn(api, now)).toMatchObject({ role: now.role ?? 'member', admin_id: member.id });
      },
    );

    it("revokes a member's tokens when it changes its own password", async () => {
      const organization = await api.createOrganization('Self');
      const member = await addMember(api, organization.token, organization);
      const session = await logIn(api, member);
      expectProblem(
        await api.post('/auth/password', {
          token: session.access_token,
          json: { current_password: OTHER_PASSWORD, new_password: 'YetAnother789!' },
        }),
        401,
      );
      const changed = await api.post('/auth/password', {
        token: session.access_token,
        json: { current_password: member.password, new_password: OTHER_PASSWORD },
      });
      expect(changed.status).toBe(200);
      await expectTokens(session, false);
      expectProblem(await loginRequest(api, member.email, member.password, organization.name), 401);
      expect((await logIn(api, { ...member, password: OTHER_PASSWORD })).organization_id).toBe(organization.id);
    });
  });

  describe('the first admin', () => {
    it('cannot be removed or demoted (409) by anyone, by either path', async () => {
      const { organization, adminSession } = await organizationWithMembers('Founder');
      const superadmin = await api.login(SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD);
      const adminBefore = await storage()
        .admins()
        .findOne({ _id: new mongo.ObjectId(organization.adminId) });

      for (const [who, token] of [
        ['first admin', organization.token],
        ['admin member', adminSession.access_token],
        ['superadmin', superadmin],
      ]) {
        for (const form of PATH_FORMS) {
          const owner = membersUrl(form, organization, organization.adminId);
          await expectStatuses(409, {
            [`${who} ${form}: remove`]: () => api.delete(owner, { token }),
            [`${who} ${form}: demote`]: () => patch(api, owner, { token, json: { role: 'member' } }),
            [`${who} ${form}: change email`]: () =>
              patch(api, owner, { token, json: { email: `other-${randomSuffix()}@example.com` } }),
          });
        }
      }

      expect(
        await storage()
          .admins()
          .findOne({ _id: new mongo.ObjectId(organization.adminId) }),
      ).toEqual(adminBefore);
      const list = await api.get(`/org/members?${query({ role: 'admin' })}`, { token: organization.token });
      expect(list.body.data.items[0]).toMatchObject({
        member_id: organization.adminId,
        email: organization.email,
        role: 'admin',
        is_owner: true,
      });
      expect((await api.get('/admin/me', { token: organization.token })).body.data).toMatchObject({
        admin_id: organization.adminId,
        role: 'admin',
        is_member: false,
      });
    });
  });

  describe('rename and delete', () => {
    it('moves the members and the audit trail on rename, and removes them all on delete', async () => {
      const { organization, member, admin, memberSession } = await organizationWithMembers('Movers');
      const before = { api: await seenBy(organization), stored: await storedOf(storage(), organization.name) };
      expect(before.stored.members).toHaveLength(2);
      expect(before.stored.audit.length).toBeGreaterThanOrEqual(5);
      const newName = `Moved ${randomSuffix()}`;

      const renamed = await api.put('/org/update', {
        token: organization.token,
        json: { organization_name: organization.name, new_organization_name: newName },
      });
      expect(renamed.status).toBe(200);

      // In the database: everything under the new name, nothing under the old.
      expect(await storage().listed(storageNameOf(organization.name), { collections: true })).toEqual([]);
      const after = await storedOf(storage(), newName);
      expect(after.members).toEqual(before.stored.members);
      expect(after.audit.filter((entry) => entry.action !== 'organization.renamed')).toEqual(before.stored.audit);
      expect(after.audit.filter((entry) => entry.action === 'organization.renamed')).toHaveLength(1);
      // Through the API: the same list, and a trail that still holds every entry.
      const seen = await seenBy(organization);
      expect(seen.members).toEqual(before.api.members);
      expect(seen.audit.items.map((entry: { audit_id: string }) => entry.audit_id)).toEqual(
        expect.arrayContaining(idsOf(before.stored.audit)),
      );
      // Members log in naming the new name (not the old), and their tokens kept working.
      for (const someone of [member, admin]) {
        expect(await logIn(api, someone, newName)).toMatchObject({ organization_id: organization.id });
        expectProblem(await loginRequest(api, someone.email, someone.password, organization.name), 401);
      }
      expect((await api.get('/admin/me', { token: memberSession.access_token })).body.data).toMatchObject({
        organization_name: newName,
        is_member: true,
      });

      const deleted = await api.delete(`/api/v1/organizations/${organization.id}`, { token: organization.token });
      expect(deleted.status).toBe(200);
      if (mode() === 'database') {
        expect(await storage().databaseNames()).not.toContain(storageNameOf(newName));
      }
      await expectNothingLeftUnder(storage(), newName);
      await expectNothingLeftUnder(storage(), organization.name);
      expectProblem(await api.get('/admin/me', { token: memberSession.access_token }), 401);
      expectProblem(await loginRequest(api, member.email, member.password, newName), 401);
      expectProblem(await loginRequest(api, member.email, member.password, organization.id), 401);
    });
  });
});

/** Lets the first `passes` calls through, then fails every later one as a lost connection would. */
function failAfter(target: object, method: string, passes: number): void {
  const original = (target as Record<string, (...args: unknown[]) => Promise<unknown>>)[method].bind(target);
  let calls = 0;
  jest.spyOn(target as Record<string, () => Promise<unknown>>, method as never).mockImplementation((async (
    ...args: unknown[]
  ) => {
    calls += 1;
    if (calls > passes) {
      throw new mongo.MongoNetworkError('injected fault: connection lost');
    }
    return original(...args);
  }) as never);
}

/**
 * A rename or delete that stops between the collections it moves (the default collection first, then
 * `audit`, then `members`), abandoned as a crashed process would leave it, finished by the next start.
 */
describe('Members: an interrupted rename or delete (e2e)', () => {
  let env: Record<string, string>;
  const apps: TestApp[] = [];

  beforeEach(() => {
    env = { MASTER_DB_NAME: `e2e_members_${mode()}_${randomSuffix()}`, OPERATION_LEASE_MS: '500' };
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await apps.pop()?.close();
    apps.length = 0;
  });

  async function start(): Promise<{ testApp: TestApp; api: Api }> {
    const testApp = await startTestApp({ env });
    apps.push(testApp);
    return { testApp, api: new Api(() => testApp.app) };
  }

  /** A crashed process runs no clean-up: the app is closed with its operation left as it was. */
  const crash = (testApp: TestApp) => testApp.close({ dropDatabases: false });

  const record = (testApp: TestApp, id: string) =>
    testApp.storage.organizations().findOne({ _id: new mongo.ObjectId(id) });

  /** The collections under a storage name that a step set aside and has not settled yet. */
  const setAside = async (testApp: TestApp, name: string) =>
    (await testApp.storage.listed(storageNameOf(name), { collections: true })).filter((listed) =>
      listed.includes('.moving.'),
    );

  /** An organization with two members and an audit trail, and a fault set for its third collection. */
  async function interruptedAtMembers(api: Api, testApp: TestApp) {
    const organization = await api.createOrganization('Interrupted');
    const members = [
      await addMember(api, organization.token, organization),
      await addMember(api, organization.token, organization, { role: 'admin' }),
    ];
    const session = await logIn(api, members[0]);
    const stored = await storedOf(testApp.storage, organization.name);
    expect(stored.members).toHaveLength(2);
    expect(stored.audit.length).toBeGreaterThanOrEqual(4);
    // The default collection and `audit` are settled; `members` is set aside, then the process fails.
    failAfter(testApp.app.get(TenantStorageService), 'settle', 2);
    return { organization, members, session, stored };
  }

  it('finishes a rename interrupted after the audit trail moved but before the members had', async () => {
    const first = await start();
    const { organization, members, session, stored } = await interruptedAtMembers(first.api, first.testApp);
    const newName = `Resumed ${randomSuffix()}`;

    expectProblem(
      await first.api.put('/org/update', {
        token: organization.token,
        json: { organization_name: organization.name, new_organization_name: newName },
      }),
      503,
    );
    expect(await record(first.testApp, organization.id)).toMatchObject({ state: 'renaming' });
    expect(await first.testApp.storage.documents(storageNameOf(newName), 'audit')).toEqual(stored.audit);
    expect(await first.testApp.storage.count(storageNameOf(newName), 'members')).toBe(0);
    expect(await setAside(first.testApp, organization.name)).toHaveLength(1);
    await crash(first.testApp);

    const second = await start();
    await eventually(async () => {
      expect(await record(second.testApp, organization.id)).toMatchObject({ state: 'active', slug: toSlug(newName) });
    }, 30_000);
    const storage = second.testApp.storage;
    // Every member and entry moved, none lost or doubled (recovery may add the rename's own entry).
    const moved = await storedOf(storage, newName);
    expect(moved.members).toEqual(stored.members);
    expect(moved.audit.filter((entry) => entry.action !== 'organization.renamed')).toEqual(stored.audit);
    await eventually(() => expectNothingLeftUnder(storage, organization.name), 30_000);

    for (const member of members) {
      expect(await logIn(second.api, member, newName)).toMatchObject({ organization_id: organization.id });
    }
    expect((await second.api.get('/admin/me', { token: session.access_token })).body.data).toMatchObject({
      organization_name: newName,
    });
    const list = await second.api.get('/org/members', { token: organization.token });
    expect(list.body.data.items.map((item: { member_id: string }) => item.member_id)).toEqual([
      organization.adminId,
      ...members.map((member) => member.id),
    ]);
  });

  it('finishes a delete interrupted after the audit trail went but before the members had', async () => {
    const first = await start();
    const { organization, members, session } = await interruptedAtMembers(first.api, first.testApp);

    expectProblem(
      await first.api.delete(`/org/delete?${query({ organization_name: organization.name })}`, {
        token: organization.token,
      }),
      503,
    );
    expect(await record(first.testApp, organization.id)).toMatchObject({ state: 'deleting' });
    expect(await first.testApp.storage.count(storageNameOf(organization.name), 'audit')).toBe(0);
    expect(await setAside(first.testApp, organization.name)).toHaveLength(1);
    expectProblem(await first.api.get('/admin/me', { token: session.access_token }), 401);
    await crash(first.testApp);

    const second = await start();
    // Deleted, then kept as a tombstone until its name's reservation (11 s here) ends.
    await eventually(async () => {
      expect(await record(second.testApp, organization.id)).toBeNull();
    }, 30_000);
    const storage = second.testApp.storage;
    await expectNothingLeftUnder(storage, organization.name);
    if (mode() === 'database') {
      expect(await storage.databaseNames()).not.toContain(storageNameOf(organization.name));
    }
    for (const member of members) {
      expectProblem(await loginRequest(second.api, member.email, member.password, organization.name), 401);
    }
    expectProblem(await second.api.get('/admin/me', { token: session.access_token }), 401);
  });
});
