import { mongo } from 'mongoose';
import { PasswordService } from '../src/passwords/password.service';
import { toSlug } from '../src/organizations/organization-name';
import { TenantStorageService } from '../src/tenancy/tenant-storage.service';
import { ApiResponse, expectProblem, Organization, PASSWORD } from './support/api';
import { randomSuffix } from './support/random';
import { storageNameOf } from './support/tenant-storage';
import { useTestApp } from './support/test-app';

const NEW_PASSWORD = 'BrandNewPassword456!';

/**
 * Credentials sent with an update: only a real change (another email, another password) revokes the
 * admin's tokens, and a same-name rename with new credentials either applies both or changes nothing.
 */
describe('Credentials on update (e2e)', () => {
  const { testApp, api } = useTestApp();

  const storage = () => testApp().storage;
  const recordOf = (organization: Organization) =>
    storage()
      .organizations()
      .findOne({ _id: new mongo.ObjectId(organization.id) });
  const adminOf = (organization: Organization) =>
    storage()
      .admins()
      .findOne({ _id: new mongo.ObjectId(organization.adminId) });
  const me = (token: string) => api.get('/admin/me', { token });
  const loginStatus = async (email: string, password: string) =>
    (await api.post('/admin/login', { json: { email, password } })).status;

  afterEach(() => jest.restoreAllMocks());

  /**
   * Active, no operation, its name matching its slug, holding that slug, its storage there. After a
   * same-slug rename (`ownSlugOnly`) it holds that slug once and nothing else; after a slug-changing
   * one the registry may still hold the old slug, reserved for a while.
   */
  async function expectSettled(organization: Organization, name: string, ownSlugOnly = true): Promise<void> {
    const record = await recordOf(organization);
    expect(record).toMatchObject({ state: 'active', organization_name: name, slug: toSlug(name) });
    if (ownSlugOnly) {
      expect(record?.claimed_slugs).toEqual([toSlug(name)]);
    } else {
      expect(record?.claimed_slugs).toContain(toSlug(name));
    }
    expect(record).not.toHaveProperty('operation');
    expect(await storage().count(storageNameOf(name), null)).toBe(1);
  }

  describe('sending the current credentials changes nothing (point 7)', () => {
    it('keeps the token of a seed-001 rename that re-sends the current email and password', async () => {
      const organization = await api.createOrganization('Seed Rename');
      const newName = `Seed Renamed ${randomSuffix()}`;
      const response = await api.put('/org/update', {
        token: organization.token,
        json: {
          old_organization_name: organization.name,
          new_organization_name: newName,
          email: organization.email,
          password: organization.password,
        },
      });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        success: true,
        message: 'Organization updated successfully',
        data: {
          organization_id: organization.id,
          organization_name: newName,
          slug: toSlug(newName),
          admin_id: organization.adminId,
          admin_email: organization.email,
        },
      });
      const stillMe = await me(organization.token);
      expect(stillMe.status).toBe(200);
      expect(stillMe.body.data).toMatchObject({ organization_id: organization.id, organization_name: newName });
      expect(await adminOf(organization)).toMatchObject({ token_version: 0, email: organization.email });
      expect(await loginStatus(organization.email, organization.password)).toBe(200);
      await expectSettled(organization, newName, false);
    });

    it('keeps the token when the current email comes in another case and spacing', async () => {
      const organization = await api.createOrganization('Same Email');
      const hashBefore = (await adminOf(organization))?.password_hash;
      const response = await api.put('/org/update', {
        token: organization.token,
        json: { organization_name: organization.name, email: `  ${organization.email.toUpperCase()} ` },
      });
      expect(response.status).toBe(200);
      expect(response.body.data).toMatchObject({
        organization_name: organization.name,
        admin_email: organization.email,
      });
      expect((await me(organization.token)).status).toBe(200);
      expect(await adminOf(organization)).toMatchObject({
        token_version: 0,
        email: organization.email,
        password_hash: hashBefore,
      });
    });

    it('keeps the token when only the current password is re-sent, and does not rehash it', async () => {
      const organization = await api.createOrganization('Same Password');
      const hashBefore = (await adminOf(organization))?.password_hash;
      const hash = jest.spyOn(testApp().app.get(PasswordService), 'hash');
      const response = await api.put('/org/update', {
        token: organization.token,
        json: { organization_name: organization.name, password: organization.password },
      });
      expect(response.status).toBe(200);
      expect(hash).not.toHaveBeenCalled();
      expect((await me(organization.token)).status).toBe(200);
      expect(await adminOf(organization)).toMatchObject({ token_version: 0, password_hash: hashBefore });
    });

    it('still revokes the tokens on a real password change', async () => {
      const organization = await api.createOrganization('New Password');
      const response = await api.put('/org/update', {
        token: organization.token,
        json: { organization_name: organization.name, email: organization.email, password: NEW_PASSWORD },
      });
      expect(response.status).toBe(200);
      expect(response.body.data).toMatchObject({ admin_email: organization.email });
      expectProblem(await me(organization.token), 401);
      expect(await adminOf(organization)).toMatchObject({ token_version: 1, email: organization.email });
      expect(await loginStatus(organization.email, organization.password)).toBe(401);
      const token = await api.login(organization.email, NEW_PASSWORD);
      expect((await me(token)).status).toBe(200);
    });

    it('still revokes the tokens on a real email change, keeping the password', async () => {
      const organization = await api.createOrganization('New Email');
      const hashBefore = (await adminOf(organization))?.password_hash;
      const email = `moved-${randomSuffix()}@example.com`;
      const response = await api.put('/org/update', {
        token: organization.token,
        json: { organization_name: organization.name, email: ` ${email.toUpperCase()}`, password: PASSWORD },
      });
      expect(response.status).toBe(200);
      expect(response.body.data).toMatchObject({ admin_email: email });
      expectProblem(await me(organization.token), 401);
      expect(await adminOf(organization)).toMatchObject({ token_version: 1, email, password_hash: hashBefore });
      expect(await loginStatus(organization.email, PASSWORD)).toBe(401);
      const token = await api.login(email);
      expect((await me(token)).body.data).toMatchObject({ email, organization_id: organization.id });
    });
  });

  describe('a same-name rename with new credentials is all or nothing (point 6)', () => {
    /** Runs `during` while the update request is past its checks, at its password hash. */
    function duringHash(during: () => Promise<void>): void {
      const passwords = testApp().app.get(PasswordService);
      const hash = passwords.hash.bind(passwords);
      jest.spyOn(passwords, 'hash').mockImplementationOnce(async (password) => {
        await during();
        return hash(password);
      });
    }

    it('applies both the new display name and the new password', async () => {
      const organization = await api.createOrganization('Case Change');
      const newName = organization.name.toUpperCase();
      const response = await api.put('/org/update', {
        token: organization.token,
        json: { organization_name: organization.name, new_organization_name: newName, password: NEW_PASSWORD },
      });
      expect(response.status).toBe(200);
      expect(response.body.data).toMatchObject({
        organization_name: newName,
        slug: toSlug(organization.name),
        admin_email: organization.email,
      });
      await expectSettled(organization, newName);
      expectProblem(await me(organization.token), 401);
      expect(await loginStatus(organization.email, organization.password)).toBe(401);
      const token = await api.login(organization.email, NEW_PASSWORD);
      expect((await me(token)).body.data).toMatchObject({ organization_name: newName });
    });

    it('changes nothing when it loses to a rename that is under way (409)', async () => {
      const organization = await api.createOrganization('Lost Case Change');
      const otherName = `Winning Rename ${randomSuffix()}`;
      // The other rename holds the organization, its storage move paused, while this update runs.
      const tenantStorage = testApp().app.get(TenantStorageService);
      const move = tenantStorage.move.bind(tenantStorage);
      let moving!: () => void;
      const moveStarted = new Promise<void>((resolve) => (moving = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      jest.spyOn(tenantStorage, 'move').mockImplementationOnce(async (...args) => {
        moving();
        await released;
        return move(...args);
      });
      let otherRename: Promise<ApiResponse> | undefined;
      duringHash(async () => {
        otherRename = api.put('/org/update', {
          token: organization.token,
          json: { organization_name: organization.name, new_organization_name: otherName },
        });
        await moveStarted;
      });

      const response = await api.put('/org/update', {
        token: organization.token,
        json: {
          organization_name: organization.name,
          new_organization_name: organization.name.toUpperCase(),
          password: NEW_PASSWORD,
        },
      });
      // What the losing update left, seen while the other rename still holds the organization.
      const passwordKept = await loginStatus(organization.email, organization.password);
      const tokenKept = (await me(organization.token)).status;
      const admin = await adminOf(organization);
      release();
      expect((await otherRename)?.status).toBe(200);

      expectProblem(response, 409);
      expect({ passwordKept, tokenKept, tokenVersion: admin?.token_version }).toEqual({
        passwordKept: 200,
        tokenKept: 200,
        tokenVersion: 0,
      });
      expect(await loginStatus(organization.email, NEW_PASSWORD)).toBe(401);
      // The name is the winner's, never the loser's; the record is settled, no operation left.
      await expectSettled(organization, otherName, false);
      expect((await me(organization.token)).body.data).toMatchObject({ organization_name: otherName });
    });

    it('changes nothing and keeps its own name claimed when the credential change fails (409)', async () => {
      const organization = await api.createOrganization('Failed Case Change');
      const email = `taken-meanwhile-${randomSuffix()}@example.com`;
      // Another organization takes the email after this update has checked that it is free.
      duringHash(async () => {
        expect((await api.createOrganizationRequest(`Email Thief ${randomSuffix()}`, email)).status).toBe(201);
      });
      const response = await api.put('/org/update', {
        token: organization.token,
        json: {
          organization_name: organization.name,
          new_organization_name: organization.name.toUpperCase(),
          email,
          password: NEW_PASSWORD,
        },
      });
      expectProblem(response, 409);
      await expectSettled(organization, organization.name);
      expect(await adminOf(organization)).toMatchObject({ token_version: 0, email: organization.email });
      expect((await me(organization.token)).status).toBe(200);
      expect(await loginStatus(organization.email, organization.password)).toBe(200);
      // Its slug is still its own: nobody else can take the name.
      expectProblem(await api.createOrganizationRequest(organization.name.toLowerCase()), 409);
    });
  });
});
