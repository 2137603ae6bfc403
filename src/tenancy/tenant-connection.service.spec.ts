import { ConflictException, NotFoundException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Connection, Schema, Types } from 'mongoose';
import { Environment, TenancyMode } from '../config/environment';
import { defineTenantEntity, HANDLE_EXPIRED, Tenant, tenantBusy, TENANT_MOVED } from './tenant';
import { TenantConnectionService } from './tenant-connection.service';
import { TenantRegistry } from './tenant-registry.service';

const HANDLE_TTL_MS = 1000;

interface FakeModel {
  modelName: string;
  collectionName: string;
  db: FakeDb;
  find: jest.Mock;
}

interface FakeDb {
  name: string;
  models: Record<string, FakeModel>;
  model: jest.Mock<FakeModel, [string, Schema, string]>;
  deleteModel: jest.Mock;
}

const schema = new Schema({ text: String });
const DEFAULT = defineTenantEntity(null, schema);
const NOTES = defineTenantEntity('notes', schema);

function fakeDb(name: string): FakeDb {
  const db: FakeDb = {
    name,
    models: {},
    // Every call compiles a new, distinguishable model bound to this database.
    model: jest.fn((modelName: string, _schema: Schema, collectionName: string) => {
      db.models[modelName] = { modelName, collectionName, db, find: jest.fn(() => `found in ${collectionName}`) };
      return db.models[modelName];
    }),
    deleteModel: jest.fn((modelName: string) => delete db.models[modelName]),
  };
  return db;
}

/**
 * A stand-in for the shared Mongoose connection, whose useDb caches one FakeDb per database name,
 * and for the registry, which records entities (or refuses, as for an organization no longer active).
 */
function fakeConnection(recorded = true) {
  const recordEntity = jest.fn(async () => {
    if (!recorded) {
      throw tenantBusy();
    }
  });
  const tenantDbs = new Map<string, FakeDb>();
  const connection = {
    ...fakeDb('master_db'),
    useDb: jest.fn((name: string) => tenantDbs.get(name) ?? tenantDbs.set(name, fakeDb(name)).get(name)),
    get relatedDbs() {
      return Object.fromEntries(tenantDbs);
    },
    removeDb: jest.fn((name: string) => tenantDbs.delete(name)),
  };
  return { connection, recordEntity, tenantDbs };
}

function serviceFor(mode: TenancyMode, fake: ReturnType<typeof fakeConnection>, cacheSize = 100) {
  const settings: Partial<Environment> = {
    TENANCY_MODE: mode,
    MASTER_DB_NAME: 'master_db',
    TENANT_HANDLE_TTL_MS: HANDLE_TTL_MS,
    TENANT_CACHE_SIZE: cacheSize,
    TENANT_CACHE_IDLE_MS: 60_000,
  };
  const config = { get: (key: keyof Environment) => settings[key] } as unknown as ConfigService<Environment, true>;
  const registry = { recordEntity: fake.recordEntity } as unknown as TenantRegistry;
  return new TenantConnectionService(fake.connection as unknown as Connection, registry, config);
}

function tenant(entities: string[] = [], overrides: Partial<Tenant> = {}): Tenant {
  const id = new Types.ObjectId().toHexString();
  return { id, storageName: 'org_x', entities, generation: 0, authorizedAt: Date.now(), ...overrides };
}

/** What a handle stands for: the compiled model behind it. */
const modelOf = (handle: unknown) => (handle as FakeModel).modelName;

afterEach(() => jest.useRealTimers());

describe('TenantConnectionService in collection mode', () => {
  it('names the default collection org_x and an entity collection org_x__notes', async () => {
    const fake = fakeConnection();
    const service = serviceFor(TenancyMode.Collection, fake);
    const org = tenant(['notes']);

    expect(await service.model(org, DEFAULT)).toMatchObject({ collectionName: 'org_x' });
    expect(await service.model(org, NOTES)).toMatchObject({ collectionName: 'org_x__notes' });
    expect(fake.connection.model).toHaveBeenCalledWith(`org_x__notes.${org.id}.0`, schema, 'org_x__notes');
    expect(fake.connection.useDb).not.toHaveBeenCalled();
  });

  it('compiles a model once per organization and entity, even for concurrent callers', async () => {
    const fake = fakeConnection();
    const service = serviceFor(TenancyMode.Collection, fake);
    const org = tenant(['notes']);

    const [first, concurrent] = await Promise.all([service.model(org, NOTES), service.model(org, NOTES)]);
    const later = await service.model({ ...org, authorizedAt: Date.now() }, NOTES);

    expect(modelOf(concurrent)).toBe(modelOf(first));
    expect(modelOf(later)).toBe(modelOf(first));
    expect(fake.connection.model).toHaveBeenCalledTimes(1);
  });

  it('records a new entity in the registry before compiling its model', async () => {
    const fake = fakeConnection();
    const service = serviceFor(TenancyMode.Collection, fake);
    const org = tenant();

    await service.model(org, NOTES);

    expect(fake.recordEntity).toHaveBeenCalledWith(org.id, 'notes');
    expect(fake.recordEntity.mock.invocationCallOrder[0]).toBeLessThan(
      fake.connection.model.mock.invocationCallOrder[0],
    );
  });

  it('checks the recorded entities on every call, also when the model is cached', async () => {
    const fake = fakeConnection();
    const service = serviceFor(TenancyMode.Collection, fake);
    const org = tenant(['notes']);
    await service.model(org, NOTES);
    expect(fake.recordEntity).not.toHaveBeenCalled();

    // The same organization as another request read it: its record no longer lists the entity.
    await service.model({ ...org, entities: [] }, NOTES);

    expect(fake.recordEntity).toHaveBeenCalledWith(org.id, 'notes');
    expect(fake.connection.model).toHaveBeenCalledTimes(1);
  });

  it('records neither the default entity nor an entity the organization already lists', async () => {
    const fake = fakeConnection();
    const service = serviceFor(TenancyMode.Collection, fake);

    await service.model(tenant(['notes']), DEFAULT);
    await service.model(tenant(['notes']), NOTES);

    expect(fake.recordEntity).not.toHaveBeenCalled();
  });

  it('throws a ConflictException and compiles nothing when the registry refuses to record', async () => {
    const fake = fakeConnection(false);
    const service = serviceFor(TenancyMode.Collection, fake);

    await expect(service.model(tenant(), NOTES)).rejects.toBeInstanceOf(ConflictException);
    expect(fake.connection.model).not.toHaveBeenCalled();
  });

  it('never gives one organization the model of another that had the same storage name', async () => {
    const fake = fakeConnection();
    const service = serviceFor(TenancyMode.Collection, fake);
    const former = await service.model(tenant(), DEFAULT);
    const successor = await service.model(tenant(), DEFAULT);

    expect(modelOf(successor)).not.toBe(modelOf(former));
    expect(successor).toMatchObject({ collectionName: 'org_x' });
  });

  it('refuses every call through a handle of a retired generation: 409 once moved, 404 once gone', async () => {
    const fake = fakeConnection();
    const service = serviceFor(TenancyMode.Collection, fake);
    const renamed = tenant();
    const deleted = tenant();
    const bystander = tenant();
    const [held, doomed, unaffected] = await Promise.all(
      [renamed, deleted, bystander].map((org) => service.model(org, DEFAULT)),
    );

    service.retire(renamed.id, 1, 'moved');
    service.retire(deleted.id, 1, 'gone');

    expect(() => held.find()).toThrow(TENANT_MOVED);
    expect(() => doomed.find()).toThrow(NotFoundException);
    await expect(service.model(renamed, DEFAULT)).rejects.toBeInstanceOf(ConflictException);
    expect(unaffected.find()).toBe('found in org_x');
    // The next generation, as a request that began after the rename reads it, is in use at once.
    const moved = await service.model({ ...renamed, generation: 1, storageName: 'org_z' }, DEFAULT);
    expect(moved.find()).toBe('found in org_z');
  });

  it('refuses a handle TENANT_HANDLE_TTL_MS after its request was authorized', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const service = serviceFor(TenancyMode.Collection, fakeConnection());
    const org = tenant();
    const handle = await service.model(org, DEFAULT);
    expect(handle.find()).toBe('found in org_x');

    jest.advanceTimersByTime(HANDLE_TTL_MS + 1);

    expect(() => handle.find()).toThrow(HANDLE_EXPIRED);
    await expect(service.model(org, DEFAULT)).rejects.toThrow(HANDLE_EXPIRED);
  });

  it('keeps at most TENANT_CACHE_SIZE models, dropping the least recently used from the connection', async () => {
    const fake = fakeConnection();
    const service = serviceFor(TenancyMode.Collection, fake, 2);
    const [first, second, third] = [tenant(), tenant(), tenant()];
    const firstModel = modelOf(await service.model(first, DEFAULT));
    await service.model(second, DEFAULT);
    await service.model(first, DEFAULT);

    await service.model(third, DEFAULT);

    expect(service.cachedModels).toBe(2);
    expect(fake.connection.deleteModel.mock.calls).toEqual([[`org_x.${second.id}.0`]]);
    expect(modelOf(await service.model(first, DEFAULT))).toBe(firstModel);
  });

  it('lists the default collection and every recorded entity in the master database', () => {
    const service = serviceFor(TenancyMode.Collection, fakeConnection());
    expect(service.collectionsOf({ storageName: 'org_x', entities: ['notes', 'tasks'] })).toEqual([
      { database: 'master_db', collection: 'org_x' },
      { database: 'master_db', collection: 'org_x__notes' },
      { database: 'master_db', collection: 'org_x__tasks' },
    ]);
  });
});

describe('TenantConnectionService in database mode', () => {
  it('compiles models in the cached org_x database, in collections data and notes', async () => {
    const fake = fakeConnection();
    const service = serviceFor(TenancyMode.Database, fake);
    const org = tenant(['notes']);

    const data = await service.model(org, DEFAULT);
    const notes = await service.model(org, NOTES);

    expect(fake.connection.useDb).toHaveBeenCalledWith('org_x', { useCache: true });
    const compiled = Object.values(fake.tenantDbs.get('org_x')!.models);
    expect(compiled.map((model) => model.modelName)).toEqual([modelOf(data), modelOf(notes)]);
    expect(data).toMatchObject({ collectionName: 'data' });
    expect(notes).toMatchObject({ collectionName: 'notes' });
    expect(fake.connection.model).not.toHaveBeenCalled();
  });

  it('does not give out the raw collection or connection of a handle', async () => {
    const handle = await serviceFor(TenancyMode.Database, fakeConnection()).model(tenant([]), DEFAULT);
    for (const property of ['collection', 'db', 'base', 'watch']) {
      expect(() => (handle as unknown as Record<string, unknown>)[property]).toThrow(/bypass/);
    }
  });

  it("retire forgets that organization's models only, so that its next generation compiles anew", async () => {
    const fake = fakeConnection();
    const service = serviceFor(TenancyMode.Database, fake);
    const org = tenant(['notes']);
    await service.model(org, DEFAULT);
    await service.model(org, NOTES);
    const other = tenant();
    const otherModel = modelOf(await service.model({ ...other, storageName: 'org_y' }, DEFAULT));

    service.retire(org.id, 1, 'moved');

    expect(Object.keys(fake.tenantDbs.get('org_x')!.models)).toEqual([]);
    expect(fake.tenantDbs.get('org_y')!.deleteModel).not.toHaveBeenCalled();
    expect(modelOf(await service.model({ ...other, storageName: 'org_y' }, DEFAULT))).toBe(otherModel);
  });

  it('drops a database handle a handle lifetime after its last model went, unless it is used again', async () => {
    jest.useFakeTimers();
    const fake = fakeConnection();
    const service = serviceFor(TenancyMode.Database, fake);
    const [x, y] = [tenant(), tenant([], { storageName: 'org_y' })];
    await service.model(x, DEFAULT);
    await service.model(y, DEFAULT);

    service.retire(x.id, 1, 'gone');
    service.retire(y.id, 1, 'gone');
    await service.model({ ...y, generation: 1, authorizedAt: Date.now() }, DEFAULT);
    jest.advanceTimersByTime(HANDLE_TTL_MS - 1);
    expect(fake.connection.removeDb).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);

    expect(fake.connection.removeDb.mock.calls).toEqual([['org_x']]);
  });

  it('lists the data collection and every recorded entity in the tenant database', () => {
    const service = serviceFor(TenancyMode.Database, fakeConnection());
    expect(service.collectionsOf({ storageName: 'org_x', entities: ['notes'] })).toEqual([
      { database: 'org_x', collection: 'data' },
      { database: 'org_x', collection: 'notes' },
    ]);
  });
});
