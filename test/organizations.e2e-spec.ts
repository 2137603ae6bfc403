import { expectProblem, PASSWORD, query } from './support/api';
import { randomSuffix } from './support/random';
import { storageNameOf, storageNameOfSlug } from './support/tenant-storage';
import { mode, useTestApp } from './support/test-app';

describe('Organizations (e2e)', () => {
  const { testApp, api } = useTestApp();

  const storage = () => testApp().storage;

  describe('POST /org/create', () => {
    it('creates the organization, its admin and its storage', async () => {
      const suffix = randomSuffix();
      const name = `Acme Corp ${suffix}`;
      const response = await api.post('/org/create', {
        json: { organization_name: `  ${name} `, email: `Admin-${suffix}@Acme.com`, password: PASSWORD },
      });

      expect(response.status).toBe(201);
      const slug = `acme_corp_${suffix}`;
      expect(response.body).toEqual({
        success: true,
        message: 'Organization created successfully',
        data: {
          organization_id: expect.stringMatching(/^[0-9a-f]{24}$/),
          organization_name: name,
          slug,
          collection_name: `org_${slug}`,
          storage: { mode: mode(), name: `org_${slug}` },
          admin_id: expect.stringMatching(/^[0-9a-f]{24}$/),
          admin_email: `admin-${suffix}@acme.com`,
          is_active: true,
          created_at: expect.any(String),
          updated_at: expect.any(String),
        },
      });
      const admin = await storage()
        .admins()
        .findOne({ email: `admin-${suffix}@acme.com` });
      expect(admin).toMatchObject({ role: 'admin', token_version: 0 });
      expect(admin?.password_hash).toMatch(/^\$2[aby]\$10\$/);
      expect(admin?._id.toString()).toBe(response.body.data.admin_id);
      const tenantDocuments = await storage().collection(storageNameOfSlug(slug), null).find().toArray();
      expect(tenantDocuments).toEqual([expect.objectContaining({ _id: admin?._id, kind: 'admin' })]);
      expect(JSON.stringify(response.body)).not.toMatch(/password|\$2[aby]\$/);
    });

    it.each([
      ['case', (name: string) => name.toUpperCase()],
      ['spacing', (name: string) => name.replace(' ', '   ')],
      ['punctuation', (name: string) => `${name.replace(' ', '-')}.`],
      ['underscores', (name: string) => name.replace(' ', '_')],
    ])('refuses a name that differs only in %s (409)', async (_, variant) => {
      const existing = await api.createOrganization('Dup Test');
      const response = await api.post('/org/create', {
        json: {
          organization_name: variant(existing.name),
          email: `other-${randomSuffix()}@example.com`,
          password: PASSWORD,
        },
      });
      expectProblem(response, 409);
      expect(response.body.detail).toBe('Organization already exists');
    });

    it('refuses an admin email that is already registered, in any case, and leaves nothing behind (409)', async () => {
      const existing = await api.createOrganization('Email Owner');
      const name = `Email Thief ${randomSuffix()}`;
      const response = await api.post('/org/create', {
        json: { organization_name: name, email: existing.email.toUpperCase(), password: PASSWORD },
      });
      expectProblem(response, 409);
      expect((await api.get(`/org/get?${query({ organization_name: name })}`)).status).toBe(404);
      expect(await storage().organizations().countDocuments({ organization_name: name })).toBe(0);
    });

    const valid = () => ({
      organization_name: `Valid ${randomSuffix()}`,
      email: `v-${randomSuffix()}@example.com`,
      password: PASSWORD,
    });
    const hostile: Array<[string, unknown]> = [
      ['an operator object', { $ne: null }],
      ['a $gt operator', { $gt: '' }],
      ['an array', ['a', 'b']],
      ['a number', 42],
      ['null', null],
      ['a boolean', true],
    ];
    for (const field of ['organization_name', 'email', 'password'] as const) {
      it.each(hostile)(`refuses ${field} given as %s (400)`, async (_, value) => {
        const body = { ...valid(), [field]: value };
        const response = await api.post('/org/create', { json: body });
        expectProblem(response, 400);
        expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      });
    }

    it.each([
      ['too short', 'A'],
      ['too long', 'x'.repeat(65)],
      ['only punctuation', '...'],
      ['a dollar sign', 'Acme $ Corp'],
      ['a slash', 'Acme/Corp'],
      ['a NUL byte', 'Acme\u0000Corp'],
      ['a zero-width space', 'Acme\u200bCorp'],
      ['right-to-left text', 'Acme \u202eproC'],
      ['a Cyrillic homoglyph', 'Аcme Corp'],
    ])('refuses an organization name with %s (400)', async (_, name) => {
      const response = await api.post('/org/create', { json: { ...valid(), organization_name: name } });
      expectProblem(response, 400);
      expect(response.body.errors[0].field).toBe('organization_name');
    });

    it.each([
      ['shorter than 8 characters', 'Short1!'],
      ['longer than 72 bytes', 'é'.repeat(37)],
    ])('refuses a password %s (400)', async (_, password) => {
      const response = await api.post('/org/create', { json: { ...valid(), password } });
      expectProblem(response, 400);
      expect(response.body.errors[0].field).toBe('password');
    });

    it('refuses unknown fields, missing fields and non-email emails (400)', async () => {
      expectProblem(await api.post('/org/create', { json: { ...valid(), is_superadmin: true } }), 400);
      expectProblem(await api.post('/org/create', { json: { organization_name: 'Lonely Name' } }), 400);
      expectProblem(await api.post('/org/create', { json: { ...valid(), email: 'not-an-email' } }), 400);
      expectProblem(await api.post('/org/create', { json: [valid()] }), 400);
    });

    it('refuses a deeply nested body (400)', async () => {
      let deep: unknown = 'bottom';
      for (let level = 0; level < 3000; level++) {
        deep = [deep];
      }
      expectProblem(await api.post('/org/create', { json: { ...valid(), deep } }), 400);
    });

    it('refuses malformed JSON, an empty body and prototype poisoning (400)', async () => {
      const headers = { 'content-type': 'application/json' };
      expectProblem(await api.post('/org/create', { raw: '{"organization_name": ', headers }), 400);
      expectProblem(await api.post('/org/create', { raw: '', headers }), 400);
      expectProblem(await api.post('/org/create', { raw: '{"__proto__": {"admin": true}}', headers }), 400);
    });

    it('refuses an oversize body (413) and a non-JSON content type (415)', async () => {
      const big = { ...valid(), organization_name: 'x'.repeat(100_000) };
      expectProblem(await api.post('/org/create', { json: big }), 413);
      expectProblem(
        await api.post('/org/create', { raw: '<a/>', headers: { 'content-type': 'application/xml' } }),
        415,
      );
    });
  });

  describe('GET /org/get', () => {
    it('shows an organization to anyone, and its admin email only to its admin', async () => {
      const organization = await api.createOrganization('Visible');
      const url = `/org/get?${query({ organization_name: organization.name.toLowerCase() })}`;

      const anonymous = await api.get(url);
      expect(anonymous.status).toBe(200);
      expect(anonymous.body.message).toBe('Organization retrieved successfully');
      expect(anonymous.body.data.organization_name).toBe(organization.name);
      expect(anonymous.body.data).not.toHaveProperty('admin_email');

      const owner = await api.get(url, { token: organization.token });
      expect(owner.body.data.admin_email).toBe(organization.email);

      const stranger = await api.createOrganization('Stranger');
      const foreign = await api.get(url, { token: stranger.token });
      expect(foreign.status).toBe(200);
      expect(foreign.body.data).not.toHaveProperty('admin_email');
    });

    it('answers 404 for an unknown organization, 400 for an invalid name and 401 for a bad token', async () => {
      expectProblem(await api.get(`/org/get?${query({ organization_name: `Nobody ${randomSuffix()}` })}`), 404);
      expectProblem(await api.get('/org/get'), 400);
      expectProblem(await api.get('/org/get?organization_name=%24where'), 400);
      expectProblem(await api.get('/org/get?organization_name[$ne]=x'), 400);
      expectProblem(await api.get('/org/get?organization_name=a&organization_name=b'), 400);
      const organization = await api.createOrganization('Token Check');
      const url = `/org/get?${query({ organization_name: organization.name })}`;
      expectProblem(await api.get(url, { token: 'not.a.token' }), 401);
    });
  });

  describe('GET /org/list', () => {
    it('is for a superadmin only', async () => {
      const organization = await api.createOrganization('Lister');
      expectProblem(await api.get('/org/list'), 401);
      expectProblem(await api.get('/org/list', { token: organization.token }), 403);
    });
  });

  describe('PUT /org/update', () => {
    it('renames the organization, moves its storage and keeps the token working', async () => {
      const organization = await api.createOrganization('Before Rename');
      const newName = `After Rename ${randomSuffix()}`;
      const oldStorage = storageNameOf(organization.name);

      const response = await api.put('/org/update', {
        token: organization.token,
        json: { organization_name: organization.name, new_organization_name: newName },
      });

      expect(response.status).toBe(200);
      expect(response.body.message).toBe('Organization updated successfully');
      const newStorage = storageNameOf(newName);
      expect(response.body.data).toMatchObject({
        organization_id: organization.id,
        organization_name: newName,
        collection_name: newStorage,
        admin_email: organization.email,
      });
      expect(await storage().collection(newStorage, null).countDocuments({ kind: 'admin' })).toBe(1);
      expect(await storage().collection(oldStorage, null).countDocuments()).toBe(0);
      expectProblem(await api.get(`/org/get?${query({ organization_name: organization.name })}`), 404);
      const me = await api.get('/admin/me', { token: organization.token });
      expect(me.status).toBe(200);
      expect(me.body.data.organization_name).toBe(newName);
    });

    it('accepts the seed form with old_organization_name', async () => {
      const organization = await api.createOrganization('Seed Form');
      const newName = `Seed Form Renamed ${randomSuffix()}`;
      const response = await api.put('/org/update', {
        token: organization.token,
        json: { old_organization_name: organization.name, new_organization_name: newName, email: organization.email },
      });
      expect(response.status).toBe(200);
      expect(response.body.data.organization_name).toBe(newName);
    });

    it('changes only the display name when the new name has the same slug', async () => {
      const organization = await api.createOrganization('case change');
      const response = await api.put('/org/update', {
        token: organization.token,
        json: { organization_name: organization.name, new_organization_name: organization.name.toUpperCase() },
      });
      expect(response.status).toBe(200);
      expect(response.body.data.organization_name).toBe(organization.name.toUpperCase());
    });

    it('changes the password, revokes older tokens and accepts the new password', async () => {
      const organization = await api.createOrganization('Password Change');
      const response = await api.put('/org/update', {
        token: organization.token,
        json: { organization_name: organization.name, password: 'BrandNewPassword456!' },
      });
      expect(response.status).toBe(200);
      expectProblem(await api.get('/admin/me', { token: organization.token }), 401);
      expectProblem(await api.post('/admin/login', { json: { email: organization.email, password: PASSWORD } }), 401);
      const token = await api.login(organization.email, 'BrandNewPassword456!');
      expect((await api.get('/admin/me', { token })).status).toBe(200);
    });

    it('changes the email and revokes older tokens', async () => {
      const organization = await api.createOrganization('Email Change');
      const email = `new-${randomSuffix()}@example.com`;
      const response = await api.put('/org/update', {
        token: organization.token,
        json: { organization_name: organization.name, email },
      });
      expect(response.status).toBe(200);
      expect(response.body.data.admin_email).toBe(email);
      expectProblem(await api.get('/admin/me', { token: organization.token }), 401);
      await api.login(email);
    });

    it("refuses another organization's token (403) and leaves the organization unchanged", async () => {
      const victim = await api.createOrganization('Victim');
      const attacker = await api.createOrganization('Attacker');
      const response = await api.put('/org/update', {
        token: attacker.token,
        json: {
          organization_name: victim.name,
          new_organization_name: `Stolen ${randomSuffix()}`,
          password: 'Hijacked123!',
        },
      });
      expectProblem(response, 403);
      const after = await api.get(`/org/get?${query({ organization_name: victim.name })}`, { token: victim.token });
      expect(after.body.data.organization_name).toBe(victim.name);
      await api.login(victim.email);
    });

    it('refuses a rename onto an existing name (409) and a taken email (409), changing nothing', async () => {
      const organization = await api.createOrganization('Rename Source');
      const other = await api.createOrganization('Rename Target');
      expectProblem(
        await api.put('/org/update', {
          token: organization.token,
          json: {
            organization_name: organization.name,
            new_organization_name: other.name.toUpperCase(),
            password: 'Changed12345!',
          },
        }),
        409,
      );
      expectProblem(
        await api.put('/org/update', {
          token: organization.token,
          json: { organization_name: organization.name, email: other.email },
        }),
        409,
      );
      expect((await api.get('/admin/me', { token: organization.token })).status).toBe(200);
    });

    it('answers 400 for nothing to update, both name forms, or bad fields; 401 without a token; 404 for no such organization', async () => {
      const organization = await api.createOrganization('Update Errors');
      const put = (json: unknown, token: string | null = organization.token) =>
        api.put('/org/update', { token: token ?? undefined, json });
      expectProblem(await put({ organization_name: organization.name }), 400);
      expectProblem(
        await put({
          organization_name: organization.name,
          old_organization_name: organization.name,
          password: 'Whatever123!',
        }),
        400,
      );
      expectProblem(await put({ organization_name: organization.name, email: null }), 400);
      expectProblem(await put({ organization_name: organization.name, new_organization_name: { $ne: null } }), 400);
      expectProblem(await put({ organization_name: organization.name, role: 'superadmin' }), 400);
      expectProblem(await put({ new_organization_name: 'Missing Target' }), 400);
      expectProblem(await put({ organization_name: organization.name, password: 'Whatever123!' }, null), 401);
      expectProblem(await put({ organization_name: `Ghost ${randomSuffix()}`, password: 'Whatever123!' }), 404);
    });
  });

  describe('DELETE /org/delete', () => {
    it('deletes by query, removes all storage and revokes the token', async () => {
      const organization = await api.createOrganization('Doomed');
      const storageName = storageNameOf(organization.name);
      const response = await api.delete(`/org/delete?${query({ organization_name: organization.name })}`, {
        token: organization.token,
      });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        success: true,
        message: 'Organization deleted successfully',
        data: { organization_name: organization.name, deleted_collection: storageName },
      });
      expect(await storage().collection(storageName, null).countDocuments()).toBe(0);
      expect(await storage().admins().countDocuments({ email: organization.email })).toBe(0);
      expectProblem(await api.get('/admin/me', { token: organization.token }), 401);
      expectProblem(await api.get(`/org/get?${query({ organization_name: organization.name })}`), 404);
      expectProblem(await api.post('/admin/login', { json: { email: organization.email, password: PASSWORD } }), 401);
    });

    it('deletes by JSON body', async () => {
      const organization = await api.createOrganization('Doomed Body');
      const response = await api.delete('/org/delete', {
        token: organization.token,
        json: { organization_name: organization.name },
      });
      expect(response.status).toBe(200);
    });

    it("refuses another organization's token (403), and keeps the organization", async () => {
      const victim = await api.createOrganization('Delete Victim');
      const attacker = await api.createOrganization('Delete Attacker');
      expectProblem(
        await api.delete(`/org/delete?${query({ organization_name: victim.name })}`, { token: attacker.token }),
        403,
      );
      expect((await api.get(`/org/get?${query({ organization_name: victim.name })}`)).status).toBe(200);
    });

    it('answers 400 without a name or with two different names, 401 without a token, 404 for no such organization', async () => {
      const organization = await api.createOrganization('Delete Errors');
      expectProblem(await api.delete('/org/delete', { token: organization.token }), 400);
      expectProblem(
        await api.delete(`/org/delete?${query({ organization_name: organization.name })}`, {
          token: organization.token,
          json: { organization_name: 'Something Else' },
        }),
        400,
      );
      expectProblem(
        await api.delete('/org/delete', { token: organization.token, json: { organization_name: { $gt: '' } } }),
        400,
      );
      expectProblem(await api.delete(`/org/delete?${query({ organization_name: organization.name })}`), 401);
      expectProblem(
        await api.delete(`/org/delete?${query({ organization_name: `Ghost ${randomSuffix()}` })}`, {
          token: organization.token,
        }),
        404,
      );
    });
  });
});
