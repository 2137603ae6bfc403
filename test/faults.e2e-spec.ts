import { mongo } from 'mongoose';
import { TenantRegistry } from '../src/tenancy/tenant-registry.service';
import { toSlug } from '../src/organizations/organization-name';
import { TenantStorageService } from '../src/tenancy/tenant-storage.service';
import { Api, expectProblem, Organization, query } from './support/api';
import { eventually } from './support/eventually';
import { NotesModule } from './support/notes.module';
import { byName, closeOwnDatabaseApp, idsOf, OwnDatabase, startOwnDatabaseApp } from './support/own-database';
import { randomSuffix } from './support/random';
import { storageNameOf, storageNameOfSlug, TenantStorage } from './support/tenant-storage';
import { TestApp } from './support/test-app';

/**
 * Fault injection against a real database server of the suite's own: it stops in the middle of
 * create, rename and delete; each operation completes later or is rolled back, nothing is lost and
 * nothing is half-visible, checked in the database with the MongoDB driver, not only through the API.
 */

describe('Faults: the database stops in the middle of create, rename and delete (e2e)', () => {
  let database: OwnDatabase;
  let storage: TenantStorage;
  let testApp: TestApp;
  let api: Api;
  /** An organization no operation touches: its data must come through every fault intact. */
  let bystander: Organization;
  const bystanderNotes = ['kept 1', 'kept 2', 'kept 3'];

  beforeAll(async () => {
    ({ database, storage, testApp } = await startOwnDatabaseApp('stop', [NotesModule]));
    api = new Api(() => testApp.app);
    bystander = await api.createOrganization('Bystander');
    for (const text of bystanderNotes) {
      expect((await api.post('/notes', { token: bystander.token, json: { text } })).status).toBe(201);
    }
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    // A test that failed half-way may have left the database stopped.
    await database.restart();
  });

  afterAll(() => closeOwnDatabaseApp({ database, testApp }));

  async function expectBystanderIntact(): Promise<void> {
    const storageName = storageNameOf(bystander.name);
    expect((await storage.documents(storageName, 'notes')).map((note) => note.text)).toEqual(bystanderNotes);
    expect(await storage.collection(storageName, null).countDocuments({ kind: 'admin' })).toBe(1);
    expect(await storage.organizations().findOne({ slug: toSlug(bystander.name) })).toMatchObject({ state: 'active' });
    expect((await api.get('/notes', { token: bystander.token })).body.data).toEqual(bystanderNotes);
  }

  /** The API and the organizations collection tell the same story about a name. */
  async function expectApiAgreesWithDatabase(name: string): Promise<void> {
    const record = await storage.organizations().findOne({ slug: toSlug(name) });
    const response = await api.get(byName(name));
    if (record === null) {
      expectProblem(response, 404);
      return;
    }
    expect(record.state).toBe('active');
    expect(record).not.toHaveProperty('operation');
    expect(response.status).toBe(200);
    expect(response.body.data).toMatchObject({
      organization_id: record._id.toString(),
      organization_name: record.organization_name,
      slug: record.slug,
      collection_name: storageNameOfSlug(record.slug),
    });
  }

  async function writeNotes(organization: Organization, texts: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const text of texts) {
      const response = await api.post('/notes', { token: organization.token, json: { text } });
      expect(response.status).toBe(201);
      ids.push(response.body.data.id);
    }
    return ids;
  }

  it('rolls back a create whose database stopped before it could complete it', async () => {
    const name = `Stopped Create ${randomSuffix()}`;
    const email = `stopped-create-${randomSuffix()}@example.com`;
    const slug = toSlug(name);
    const storageName = storageNameOf(name);
    // The last step of a create marks it active; the database stops just before it.
    const registry = testApp.app.get(TenantRegistry);
    const complete = registry.complete.bind(registry);
    let interrupted: Record<string, unknown> | undefined;
    jest.spyOn(registry, 'complete').mockImplementation(async (...args) => {
      if (args[1] === 'creating' && interrupted === undefined) {
        interrupted = {
          record: await storage.organizations().findOne({ slug }),
          admins: await storage.admins().countDocuments({ email }),
          tenantAdmins: await storage.count(storageName, null),
        };
        await database.stop();
      }
      return complete(...args);
    });

    const started = Date.now();
    const response = await api.createOrganizationRequest(name, email);
    expectProblem(response, 503);
    expect(response.headers['retry-after']).toBeDefined();
    expect(Date.now() - started).toBeLessThan(15_000);
    jest.restoreAllMocks();
    // What the database held when it stopped: every step done but the last.
    expect(interrupted).toMatchObject({ record: { state: 'creating' }, admins: 1, tenantAdmins: 1 });

    await database.restart();
    await eventually(async () => {
      expect(await storage.organizations().countDocuments({ slug })).toBe(0);
    }, 30_000);
    expect(await storage.organizations().countDocuments({ claimed_slugs: slug })).toBe(0);
    expect(await storage.admins().countDocuments({ email })).toBe(0);
    expect(await storage.exists(storageName)).toBe(false);
    expectProblem(await api.get(byName(name)), 404);
    await expectApiAgreesWithDatabase(name);
    await expectBystanderIntact();

    // Nothing of it is left to block the name or the email.
    const again = await api.createOrganizationRequest(name, email);
    expect(again.status).toBe(201);
    await expectApiAgreesWithDatabase(name);
    expect(await storage.collection(storageName, null).countDocuments({ kind: 'admin' })).toBe(1);
  });

  it('finishes a rename whose database stopped after part of the storage had moved', async () => {
    const organization = await api.createOrganization('Stopped Rename');
    const noteIds = await writeNotes(organization, ['a', 'b', 'c']);
    const adminEntries = idsOf(await storage.documents(storageNameOf(organization.name), null));
    expect(adminEntries).toEqual([organization.adminId]);
    const newName = `Renamed After Stop ${randomSuffix()}`;
    const [oldStorage, newStorage] = [storageNameOf(organization.name), storageNameOf(newName)];

    // Steps: before the default collection, before notes. The database stops at the second: the
    // default collection has moved, the notes have not.
    const tenantStorage = testApp.app.get(TenantStorageService);
    const move = tenantStorage.move.bind(tenantStorage);
    let interrupted: Record<string, unknown> | undefined;
    jest.spyOn(tenantStorage, 'move').mockImplementation(async (storageName, tenantId, beforeEachStep) => {
      let step = 0;
      return move(storageName, tenantId, async () => {
        step += 1;
        if (step === 2 && interrupted === undefined) {
          interrupted = {
            record: await storage.organizations().findOne({ _id: new mongo.ObjectId(organization.id) }),
            newAdminEntries: await storage.count(newStorage, null),
            oldNotes: await storage.count(oldStorage, 'notes'),
            newNotes: await storage.count(newStorage, 'notes'),
          };
          await database.stop();
        }
        return beforeEachStep();
      });
    });

    const response = await api.put('/org/update', {
      token: organization.token,
      json: { organization_name: organization.name, new_organization_name: newName },
    });
    expectProblem(response, 503);
    jest.restoreAllMocks();
    expect(interrupted).toMatchObject({
      record: { state: 'renaming', operation: { kind: 'rename', target_slug: toSlug(newName) } },
      newAdminEntries: 1,
      oldNotes: 3,
      newNotes: 0,
    });

    await database.restart();
    await eventually(async () => {
      expect(await storage.organizations().findOne({ _id: new mongo.ObjectId(organization.id) })).toMatchObject({
        state: 'active',
        organization_name: newName,
        slug: toSlug(newName),
        claimed_slugs: [toSlug(newName)],
      });
    }, 30_000);
    // Every document moved, none lost or doubled, nothing left behind.
    expect(idsOf(await storage.documents(newStorage, null))).toEqual(adminEntries);
    const notes = await storage.documents(newStorage, 'notes');
    expect(idsOf(notes)).toEqual(noteIds);
    expect(notes.map((note) => note.text)).toEqual(['a', 'b', 'c']);
    expect(await storage.exists(oldStorage)).toBe(false);
    expect(await storage.organizations().countDocuments({ claimed_slugs: toSlug(organization.name) })).toBe(0);
    // Not half-visible: the API shows the new name only, and the token still opens the moved data.
    await expectApiAgreesWithDatabase(newName);
    await expectApiAgreesWithDatabase(organization.name);
    expectProblem(await api.get(byName(organization.name)), 404);
    expect((await api.get('/notes', { token: organization.token })).body.data).toEqual(['a', 'b', 'c']);
    expect((await api.get('/admin/me', { token: organization.token })).body.data).toMatchObject({
      organization_id: organization.id,
      organization_name: newName,
    });
    await expectBystanderIntact();
  });

  it('finishes a delete whose database stopped before its storage was all dropped', async () => {
    const organization = await api.createOrganization('Stopped Delete');
    await writeNotes(organization, ['x', 'y']);
    const storageName = storageNameOf(organization.name);
    // The default collection goes, then notes: the database stops between the two.
    const stopAtStep = 2;
    const tenantStorage = testApp.app.get(TenantStorageService);
    const drop = tenantStorage.drop.bind(tenantStorage);
    let interrupted: Record<string, unknown> | undefined;
    jest.spyOn(tenantStorage, 'drop').mockImplementation(async (dropped, tenantId, beforeEachStep) => {
      let step = 0;
      return drop(dropped, tenantId, async () => {
        step += 1;
        if (step === stopAtStep && interrupted === undefined) {
          interrupted = {
            record: await storage.organizations().findOne({ _id: new mongo.ObjectId(organization.id) }),
            admins: await storage.admins().countDocuments({ email: organization.email }),
            adminEntries: await storage.count(storageName, null),
            notes: await storage.count(storageName, 'notes'),
          };
          await database.stop();
        }
        return beforeEachStep();
      });
    });

    const response = await api.delete(`/org/delete?${query({ organization_name: organization.name })}`, {
      token: organization.token,
    });
    expectProblem(response, 503);
    jest.restoreAllMocks();
    expect(interrupted).toMatchObject({
      record: { state: 'deleting', operation: { kind: 'delete' } },
      admins: 0,
      adminEntries: 0,
      notes: 2,
    });

    await database.restart();
    await eventually(async () => {
      expect(await storage.organizations().findOne({ _id: new mongo.ObjectId(organization.id) })).toBeNull();
    }, 30_000);
    expect(await storage.exists(storageName)).toBe(false);
    expect(await storage.admins().countDocuments({ organization_id: new mongo.ObjectId(organization.id) })).toBe(0);
    await expectApiAgreesWithDatabase(organization.name);
    expectProblem(await api.get('/admin/me', { token: organization.token }), 401);
    await expectBystanderIntact();
    // The name and the email are free again.
    expect((await api.createOrganizationRequest(organization.name, organization.email)).status).toBe(201);
    await expectApiAgreesWithDatabase(organization.name);
  });
});
