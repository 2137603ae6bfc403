import { expectProblem, Organization, query } from './support/api';
import { ACCESS_RULE } from '../src/auth/decorators/auth.decorator';
import { IS_PUBLIC } from '../src/auth/decorators/public.decorator';
import { NoteEntity, NotesController, NotesModule } from './support/notes.module';
import { randomSuffix } from './support/random';
import { storageNameOf } from './support/tenant-storage';
import { mode, useTestApp } from './support/test-app';
import { ConflictException } from '@nestjs/common';
import { tenantOf } from '../src/tenancy/organization-tenant';
import { TenantConnectionService } from '../src/tenancy/tenant-connection.service';
import { TenantRegistry } from '../src/tenancy/tenant-registry.service';

describe('Tenant-scoped modules (e2e)', () => {
  const { testApp, api } = useTestApp({ imports: [NotesModule] });

  const storage = () => testApp().storage;
  /** The notes of the organization named `name`, wherever the tenancy mode keeps them. */
  const notesCollection = (name: string) => storage().collection(storageNameOf(name), 'notes');
  /** Checked before any read, since mongo-java-server creates a database on first access. */
  const expectNoDatabase = async (name: string) => {
    if (mode() === 'database') {
      expect(await storage().databaseNames()).not.toContain(storageNameOf(name));
    }
  };
  /**
   * Nothing of the storage is left: no collection of it (a database keeps its name, empty, until the
   * reservation's end drops it, on mongo-java-server; MongoDB lists no empty database).
   */
  const expectNoCollections = async (name: string) => {
    expect(await storage().listed(storageNameOf(name), { collections: true })).toEqual([]);
  };
  /** A notes handle of `organization`'s current storage, as a request of its admin would get it. */
  const notesModelOf = async (organization: Organization) => {
    const record = await testApp().app.get(TenantRegistry).findForToken(organization.id);
    return testApp().app.get(TenantConnectionService).model(tenantOf(record!), NoteEntity);
  };

  it("keeps each organization's documents in its own storage", async () => {
    const alpha = await api.createOrganization('Alpha');
    const beta = await api.createOrganization('Beta');
    expect((await api.post('/notes', { token: alpha.token, json: { text: 'alpha secret' } })).status).toBe(201);
    expect((await api.post('/notes', { token: beta.token, json: { text: 'beta secret' } })).status).toBe(201);

    expect((await api.get('/notes', { token: alpha.token })).body.data).toEqual(['alpha secret']);
    expect((await api.get('/notes', { token: beta.token })).body.data).toEqual(['beta secret']);
    expect(
      await notesCollection(alpha.name)
        .find({}, { projection: { _id: 0, _tenant: 0 } })
        .toArray(),
    ).toEqual([{ text: 'alpha secret' }]);
    const recorded = await storage().organizations().findOne({ organization_name: alpha.name });
    expect(recorded?.entities).toContain('notes');
  });

  it('moves every entity collection on rename, and removes them all on delete', async () => {
    const organization = await api.createOrganization('Mover');
    for (const text of ['one', 'two', 'three']) {
      await api.post('/notes', { token: organization.token, json: { text } });
    }
    const newName = `Moved ${randomSuffix()}`;
    const rename = await api.put('/org/update', {
      token: organization.token,
      json: { organization_name: organization.name, new_organization_name: newName },
    });
    expect(rename.status).toBe(200);

    await expectNoCollections(organization.name);
    expect(await notesCollection(organization.name).countDocuments()).toBe(0);
    expect(await notesCollection(newName).countDocuments()).toBe(3);
    expect((await api.get('/notes', { token: organization.token })).body.data).toEqual(['one', 'two', 'three']);
    await api.post('/notes', { token: organization.token, json: { text: 'four' } });
    expect(await notesCollection(newName).countDocuments()).toBe(4);

    const removal = await api.delete(`/org/delete?${query({ organization_name: newName })}`, {
      token: organization.token,
    });
    expect(removal.status).toBe(200);
    await expectNoDatabase(newName);
    expect(await notesCollection(newName).countDocuments()).toBe(0);
  });

  it('compiles a model once per tenant and entity, and releases it when the tenant moves', async () => {
    const organization = await api.createOrganization('Memo');
    await api.post('/notes', { token: organization.token, json: { text: 'first' } });
    const first = (await notesModelOf(organization)).modelName;
    expect((await notesModelOf(organization)).modelName).toBe(first);

    await api.put('/org/update', {
      token: organization.token,
      json: { organization_name: organization.name, new_organization_name: `Memo Moved ${randomSuffix()}` },
    });
    expect((await notesModelOf(organization)).modelName).not.toBe(first);
  });

  it("refuses a request's handle on this instance once its organization has moved", async () => {
    const former = await api.createOrganization('Former');
    await api.post('/notes', { token: former.token, json: { text: 'moved along' } });
    // What a request of the organization holds while the rename runs.
    const heldByARequestUnderWay = await notesModelOf(former);
    const rename = await api.put('/org/update', {
      token: former.token,
      json: { organization_name: former.name, new_organization_name: `Former Moved ${randomSuffix()}` },
    });
    expect(rename.status).toBe(200);
    expect(() => heldByARequestUnderWay.create({ text: 'late write' })).toThrow(ConflictException);
    expect(await notesCollection(former.name).countDocuments()).toBe(0);
    expect((await api.get('/notes', { token: former.token })).body.data).toEqual(['moved along']);
  });

  it('protects by default: a controller with no access decorator refuses callers without a valid token', async () => {
    for (const target of [NotesController, NotesController.prototype.add, NotesController.prototype.list]) {
      expect(Reflect.getMetadata(IS_PUBLIC, target)).toBeUndefined();
      expect(Reflect.getMetadata(ACCESS_RULE, target)).toBeUndefined();
    }
    expectProblem(await api.get('/notes'), 401);
    expectProblem(await api.post('/notes', { token: 'bad' }), 401);
  });
});
