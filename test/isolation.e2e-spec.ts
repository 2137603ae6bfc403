import { ConflictException, NotFoundException } from '@nestjs/common';
import { Model, mongo, Types } from 'mongoose';
import { OrganizationRecoveryService } from '../src/organizations/organization-recovery.service';
import { tenantOf } from '../src/tenancy/organization-tenant';
import { TenantConnectionService } from '../src/tenancy/tenant-connection.service';
import { TenantRegistry } from '../src/tenancy/tenant-registry.service';
import { TenantStorageService } from '../src/tenancy/tenant-storage.service';
import { Api, expectProblem, Organization, query } from './support/api';
import { eventually } from './support/eventually';
import { Note, NoteEntity, NotesModule } from './support/notes.module';
import { randomSuffix } from './support/random';
import { storageNameOf } from './support/tenant-storage';
import { mode, startTestApp, TestApp } from './support/test-app';

/**
 * Isolation by construction, with two instances on one database: a request holds a handle on its
 * organization's storage (what any request in flight has), and the organization is renamed or
 * deleted meanwhile, on this instance or the other one. Whatever the timing, no handle reaches
 * another organization's data, nothing is lost or left behind, and nothing stays busy.
 */
describe('Isolation under renames, deletes and late writes (e2e)', () => {
  const master = `e2e_isolation_${mode()}_${randomSuffix()}`;
  // Reserved for 2 + 2 × 1 + 1.5 + 1 = 6.5 s after a name is given up.
  const env = {
    // Two apps in one process share Passport's strategy registry, so the last one started checks
    // every token: a token-state cache would be that app's, and miss the other's changes. Caching
    // across instances is tested with processes (token-state.e2e-spec.ts).
    TOKEN_STATE_TTL_MS: '0',
    MASTER_DB_NAME: master,
    OPERATION_LEASE_MS: '1000',
    // Long enough for a held handle to outlast a rename on a busy machine.
    TENANT_HANDLE_TTL_MS: '2000',
    DB_TIMEOUT_MS: '1000',
    DB_SOCKET_TIMEOUT_MS: '1500',
  };
  let first: TestApp;
  let second: TestApp;
  let api: Api;
  let otherApi: Api;

  beforeAll(async () => {
    first = await startTestApp({ env, imports: [NotesModule] });
    second = await startTestApp({ env, imports: [NotesModule] });
    api = new Api(() => first.app);
    otherApi = new Api(() => second.app);
  });

  afterAll(async () => {
    await second?.close({ dropDatabases: false });
    await first?.close();
  });

  /** A notes handle of `organization`, as a request authorized now on `instance` holds it. */
  async function heldNotes(instance: TestApp, organization: Organization): Promise<Model<Note>> {
    const record = await instance.app.get(TenantRegistry).findForToken(organization.id);
    expect(record).not.toBeNull();
    return instance.app.get(TenantConnectionService).model(tenantOf(record!), NoteEntity);
  }

  const notesOf = async (organization: Organization, on = api) =>
    (await on.get('/notes', { token: organization.token })).body.data as string[];
  const notesUnder = (name: string) => first.storage.documents(storageNameOf(name), 'notes');
  const record = (id: string) => first.storage.organizations().findOne({ _id: new Types.ObjectId(id) });

  /** Creates `name` once its reservation is over: 409 with Retry-After until then. */
  async function createOnceFree(name: string, email: string) {
    let reserved = 0;
    let created = await api.createOrganizationRequest(name, email);
    while (created.status === 409) {
      expect(created.headers['retry-after']).toBeDefined();
      reserved += 1;
      await new Promise((resolve) => setTimeout(resolve, 250));
      created = await api.createOrganizationRequest(name, email);
    }
    expect(created.status).toBe(201);
    return { created, reserved };
  }

  it("a deleted organization's handles never reach its successor's data", async () => {
    const former = await api.createOrganization('Former');
    await api.post('/notes', { token: former.token, json: { text: 'former note' } });
    const heldHere = await heldNotes(first, former);
    const heldThere = await heldNotes(second, former);

    const deleted = await api.delete(`/org/delete?${query({ organization_name: former.name })}`, {
      token: former.token,
    });
    expect(deleted.status).toBe(200);

    // This instance knows at once: its handles refuse with 404.
    expect(() => heldHere.find()).toThrow(NotFoundException);
    // The other does not know yet: its late write lands under the vacated name, which is reserved.
    await heldThere.create({ text: 'late write' });
    const reservedNow = await api.createOrganizationRequest(former.name, `successor-${randomSuffix()}@example.com`);
    expectProblem(reservedNow, 409);
    expect(Number(reservedNow.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    const email = `successor-${randomSuffix()}@example.com`;
    const { reserved } = await createOnceFree(former.name, email);
    expect(reserved).toBeGreaterThan(0);
    // By then the other instance's handle has expired, and the late write was dropped.
    expect(() => heldThere.find()).toThrow(ConflictException);
    const successor = { ...former, token: await api.login(email) };
    expect(await notesOf(successor)).toEqual([]);
    await api.post('/notes', { token: successor.token, json: { text: 'successor note' } });
    expect((await notesUnder(former.name)).map((note) => note.text)).toEqual(['successor note']);
    expect(await notesOf(successor, otherApi)).toEqual(['successor note']);
  });

  it('carries a late write under the old name to where the organization went, before the name is free', async () => {
    const mover = await api.createOrganization('Mover');
    await api.post('/notes', { token: mover.token, json: { text: 'before' } });
    const heldThere = await heldNotes(second, mover);
    const newName = `Moved ${randomSuffix()}`;
    const renamed = await api.put('/org/update', {
      token: mover.token,
      json: { organization_name: mover.name, new_organization_name: newName },
    });
    expect(renamed.status).toBe(200);
    await heldThere.create({ text: 'late write' });
    expect((await notesUnder(mover.name)).map((note) => note.text)).toEqual(['late write']);

    // Another organization may not take the old name while it is reserved...
    const taker = await api.createOrganization('Taker');
    await api.post('/notes', { token: taker.token, json: { text: 'taker note' } });
    const early = await api.put('/org/update', {
      token: taker.token,
      json: { organization_name: taker.name, new_organization_name: mover.name },
    });
    expectProblem(early, 409);
    expect(early.headers['retry-after']).toBeDefined();

    // ...and once it is free, the late write is with the organization that wrote it, nothing under the old name.
    await eventually(async () => {
      expect(await notesOf(mover)).toEqual(['before', 'late write']);
    }, 15_000);
    await eventually(async () => {
      const moved = await api.put('/org/update', {
        token: taker.token,
        json: { organization_name: taker.name, new_organization_name: mover.name },
      });
      expect(moved.status).toBe(200);
    }, 15_000);
    expect(await notesOf(taker)).toEqual(['taker note']);
    expect((await notesUnder(mover.name)).map((note) => note.text)).toEqual(['taker note']);
    expect((await notesUnder(newName)).map((note) => note.text)).toEqual(['before', 'late write']);
    for (const organization of [mover, taker]) {
      expect(await record(organization.id)).toMatchObject({ state: 'active' });
      expect(await record(organization.id)).not.toHaveProperty('operation');
    }
  });

  it('records an entity written through a model cached for a former organization of the same name', async () => {
    const former = await api.createOrganization('Cached');
    await api.post('/notes', { token: former.token, json: { text: 'former' } });
    // The second instance deletes it and creates another under the same name.
    expect(
      (await otherApi.delete(`/org/delete?${query({ organization_name: former.name })}`, { token: former.token }))
        .status,
    ).toBe(200);
    const email = `cached-successor-${randomSuffix()}@example.com`;
    const { created } = await createOnceFree(former.name, email);
    const successor = { ...former, id: created.body.data.organization_id, token: await api.login(email) };

    // Written through the first instance, which had the former organization's notes model cached.
    expect((await api.post('/notes', { token: successor.token, json: { text: 'successor' } })).status).toBe(201);
    expect((await record(successor.id))?.entities).toContain('notes');

    // So a rename carries it along, and a delete removes it.
    const newName = `Cached Moved ${randomSuffix()}`;
    await api.put('/org/update', {
      token: successor.token,
      json: { organization_name: former.name, new_organization_name: newName },
    });
    expect((await notesUnder(newName)).map((note) => note.text)).toEqual(['successor']);
    expect(await notesUnder(former.name)).toEqual([]);
    await api.delete(`/org/delete?${query({ organization_name: newName })}`, { token: successor.token });
    expect(await first.storage.exists(storageNameOf(newName))).toBe(false);
  });

  it('refuses a query built before its organization went, when it runs after', async () => {
    const organization = await api.createOrganization('Query');
    await api.post('/notes', { token: organization.token, json: { text: 'mine' } });
    const held = await heldNotes(first, organization);
    const builtBefore = held.find();
    const madeBefore = new held({ text: 'unsaved' });

    await api.delete(`/org/delete?${query({ organization_name: organization.name })}`, { token: organization.token });

    expect(() => builtBefore.exec()).toThrow(NotFoundException);
    expect(() => madeBefore.save()).toThrow(NotFoundException);
  });

  it("restricts every operation of a handle to its own organization's documents, on the server", async () => {
    const owner = await api.createOrganization('Stamped');
    const mine = (await api.post('/notes', { token: owner.token, json: { text: 'mine' } })).body.data.id as string;
    // Documents of another organization under the same name, as a late write would leave them.
    const otherId = new Types.ObjectId();
    const foreign = await first.storage
      .collection(storageNameOf(owner.name), 'notes')
      .insertOne({ text: 'foreign', _tenant: otherId });
    const held = () => heldNotes(first, owner);
    const foreignNow = () =>
      first.storage.collection(storageNameOf(owner.name), 'notes').findOne({ _id: foreign.insertedId });

    expect((await (await held()).find().lean().exec()).map((note) => note.text)).toEqual(['mine']);
    expect(await (await held()).countDocuments().exec()).toBe(1);
    expect(await (await held()).distinct('text').exec()).toEqual(['mine']);
    expect(await (await held()).aggregate([{ $group: { _id: null, count: { $sum: 1 } } }]).exec()).toEqual([
      { _id: null, count: 1 },
    ]);
    expect(await (await held()).findById(foreign.insertedId).exec()).toBeNull();
    expect(
      (await (await held()).updateMany({}, { $set: { text: 'changed', _tenant: otherId } }).exec()).modifiedCount,
    ).toBe(1);
    expect(
      (await (await held()).replaceOne({ _id: foreign.insertedId }, { text: 'replaced' }).exec()).matchedCount,
    ).toBe(0);
    const bulk = await (
      await held()
    ).bulkWrite([
      { updateOne: { filter: { _id: foreign.insertedId }, update: { $set: { text: 'bulk' } } } },
      { insertOne: { document: { text: 'bulk insert' } } },
    ]);
    expect(bulk.modifiedCount).toBe(0);
    await (await held()).insertMany([{ text: 'inserted' }]);
    await (await held()).findOneAndUpdate({ text: 'foreign' }, { $set: { text: 'upserted' } }, { upsert: true }).exec();
    // A document of the other organization, hydrated and saved through the handle, changes nothing.
    const hydrated = (await held()).hydrate({ _id: foreign.insertedId, text: 'foreign' });
    hydrated.text = 'saved';
    await expect(hydrated.save()).rejects.toThrow(/No document found/);
    await expect((async () => (await held()).collection)()).rejects.toThrow(/bypass/);
    await expect(
      (async () => (await held()).aggregate([{ $lookup: { from: 'admins', as: 'x', pipeline: [] } }]).exec())(),
    ).rejects.toThrow(/\$lookup/);

    // Nor can the restriction be switched off, or a document be moved to another organization.
    const refusals: Array<() => Promise<unknown>> = [
      async () => (await held()).find({}, null, { middleware: false }).exec(),
      async () => (await held()).find().setOptions({ middleware: false }).exec(),
      async () =>
        (await held())
          .aggregate([{ $match: {} }])
          .option({ middleware: false } as never)
          .exec(),
      async () => (await held()).insertMany([{ text: 'unstamped' }], { middleware: false } as never),
      async () => new (await held())({ text: 'unstamped' }).save({ middleware: false } as never),
      async () => (await held()).updateOne({ _id: mine }, { $rename: { text: '_tenant' } }).exec(),
      async () =>
        (await held()).bulkWrite([
          {
            deleteOne: { filter: { text: 'none' } },
            updateMany: { filter: {}, update: { $set: { text: 'x' } } },
          } as never,
        ]),
      async () => {
        const document = await (await held()).findById(mine).exec();
        document!.set('_tenant', otherId);
        return document!.save();
      },
    ];
    for (const refused of refusals) {
      await expect(refused()).rejects.toThrow(/middleware|stamp cannot change|exactly one kind/);
    }
    expect(await foreignNow()).toEqual({ _id: foreign.insertedId, text: 'foreign', _tenant: otherId });
    const stored = await notesUnder(owner.name);
    expect(
      stored
        .filter((note) => note._tenant?.equals(owner.id))
        .map((note) => note.text)
        .sort(),
    ).toEqual(['bulk insert', 'changed', 'inserted', 'upserted']);
    expect(stored.find((note) => note._id.equals(mine))).toMatchObject({ text: 'changed' });
    expect((await (await held()).deleteMany({}).exec()).deletedCount).toBe(4);
    expect(await foreignNow()).not.toBeNull();
  });

  it('stamps the documents of an organization from before stamps, once, so that it keeps them', async () => {
    const organization = await api.createOrganization('Legacy');
    await api.post('/notes', { token: organization.token, json: { text: 'old note' } });
    // As a version without stamps left it.
    const notes = first.storage.collection(storageNameOf(organization.name), 'notes');
    await notes.updateMany({}, { $unset: { _tenant: 1 } });
    await first.storage
      .organizations()
      .updateOne({ _id: new Types.ObjectId(organization.id) }, { $unset: { documents_stamped: 1 } });
    expect(await notesOf(organization)).toEqual([]);

    await first.app.get(OrganizationRecoveryService).sweep();

    expect(await notesOf(organization)).toEqual(['old note']);
    expect(await notes.countDocuments({ _tenant: new Types.ObjectId(organization.id) })).toBe(1);
    expect(await record(organization.id)).toMatchObject({ documents_stamped: true });
  });

  it('carries a late update over: it replaces the document the rename moved', async () => {
    const organization = await api.createOrganization('Upsert');
    const id = (await api.post('/notes', { token: organization.token, json: { text: 'v1' } })).body.data.id;
    const heldThere = await heldNotes(second, organization);
    const renamed = await api.put('/org/update', {
      token: organization.token,
      json: { organization_name: organization.name, new_organization_name: `Upsert Moved ${randomSuffix()}` },
    });
    expect(renamed.status).toBe(200);

    await heldThere.findOneAndUpdate({ _id: id }, { $set: { text: 'v2 (late)' } }, { upsert: true }).exec();

    await eventually(async () => {
      expect(await notesOf(organization)).toEqual(['v2 (late)']);
      expect(await notesUnder(organization.name)).toEqual([]);
    }, 15_000);
  });

  it('carries a late write that lands while the rename moves its collection, in either mode', async () => {
    const organization = await api.createOrganization('Mid Move');
    await api.post('/notes', { token: organization.token, json: { text: 'before' } });
    const heldThere = await heldNotes(second, organization);
    const newName = `Mid Move Done ${randomSuffix()}`;
    const notesTarget = first.storage.locate(storageNameOf(newName), 'notes');
    // Right after the notes reach the new name (copied from where they were set aside), a late write
    // arrives under the old one: the moment the old database used to be dropped.
    const storage = first.app.get(TenantStorageService) as unknown as Record<
      string,
      (...args: unknown[]) => Promise<unknown>
    >;
    const copy = storage.copyCollection.bind(storage);
    jest.spyOn(storage, 'copyCollection').mockImplementation(async (source, target, ...rest) => {
      const result = await copy(source, target, ...rest);
      if (JSON.stringify(target) === JSON.stringify(notesTarget)) {
        await heldThere.create({ text: 'late, mid-move' });
      }
      return result;
    });
    const renamed = await api.put('/org/update', {
      token: organization.token,
      json: { organization_name: organization.name, new_organization_name: newName },
    });
    jest.restoreAllMocks();
    expect(renamed.status).toBe(200);

    await eventually(async () => {
      expect(await notesOf(organization)).toEqual(['before', 'late, mid-move']);
      expect(await first.storage.exists(storageNameOf(organization.name))).toBe(false);
    }, 15_000);
  });

  it('finishes a rename whose last step failed, though a late write recreated a moved collection', async () => {
    const organization = await api.createOrganization('Resumed');
    await api.post('/notes', { token: organization.token, json: { text: 'before' } });
    const heldThere = await heldNotes(second, organization);
    jest
      .spyOn(first.app.get(TenantRegistry), 'completeRename')
      .mockRejectedValueOnce(new mongo.MongoNetworkError('injected: connection reset'));
    const renamed = await api.put('/org/update', {
      token: organization.token,
      json: { organization_name: organization.name, new_organization_name: `Resumed Moved ${randomSuffix()}` },
    });
    expectProblem(renamed, 503);
    await heldThere.create({ text: 'late write' });

    // Recovery (a short lease here) finishes the rename, and the late write joins the moved notes.
    await eventually(async () => {
      expect(await record(organization.id)).toMatchObject({ state: 'active' });
      expect(await notesOf(organization)).toEqual(['before', 'late write']);
    }, 30_000);
  });

  it('a rename never merges into data found under its target name', async () => {
    const organization = await api.createOrganization('Clean');
    await api.post('/notes', { token: organization.token, json: { text: 'own' } });
    const target = `Clean Target ${randomSuffix()}`;
    // Stray documents under the target name, as no request of this service writes them.
    await first.storage.collection(storageNameOf(target), 'notes').insertOne({ text: 'stray' });

    const renamed = await api.put('/org/update', {
      token: organization.token,
      json: { organization_name: organization.name, new_organization_name: target },
    });
    expect(renamed.status).toBe(200);
    expect(await notesOf(organization)).toEqual(['own']);
  });
});

describe('Tenant model cache at scale (e2e)', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp({ env: { TENANT_CACHE_SIZE: '100' }, imports: [NotesModule] });
  });

  afterAll(async () => {
    // Reads may create databases on the test server: drop what the touches left.
    const client = testApp.connection.getClient();
    const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
    for (const { name } of databases.filter((database) => database.name.startsWith('org_scale_'))) {
      await client.db(name).dropDatabase();
    }
    await testApp?.close();
  });

  it('holds no more than its bound after 2 000 organizations were each touched once', async () => {
    const tenancy = testApp.app.get(TenantConnectionService);
    for (let index = 0; index < 2000; index += 1) {
      const storageName = `org_scale_${index}`;
      const id = `${index}`.padStart(24, '0');
      const tenant = { id, storageName, entities: ['notes'], generation: 0, authorizedAt: Date.now() };
      const notes = await tenancy.model(tenant, NoteEntity);
      expect(await notes.countDocuments().exec()).toBe(0);
    }

    expect(tenancy.cachedModels).toBe(100);
    const connection = testApp.connection;
    const compiled =
      mode() === 'database'
        ? Object.values((connection as unknown as { relatedDbs: Record<string, { models: object }> }).relatedDbs)
            .map((db) => Object.keys(db.models).length)
            .reduce((sum, count) => sum + count, 0)
        : Object.keys(connection.models).filter((name) => name.startsWith('org_scale_')).length;
    expect(compiled).toBe(100);
    if (mode() === 'database') {
      // Database handles go a handle lifetime after their last model.
      await eventually(async () => {
        const handles = Object.keys((connection as unknown as { relatedDbs: object }).relatedDbs);
        expect(handles.filter((name) => name.startsWith('org_scale_')).length).toBeLessThanOrEqual(100);
      });
    }
  });
});
