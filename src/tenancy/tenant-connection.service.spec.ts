import { ConflictException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Connection, Schema, Types } from 'mongoose';
import { Environment, TenancyMode } from '../config/environment';
import { defineTenantEntity, Tenant, TENANT_BUSY } from './tenant';
import { TenantRegistry } from './tenant-registry.service';
import { TenantConnectionService } from './tenant-connection.service';

interface FakeDb {
  name: string;
  model: jest.Mock<FakeModel, [string, Schema, string]>;
  deleteModel: jest.Mock;
}

interface FakeModel {
  modelName: string;
  collectionName: string;
  db: FakeDb;
}

const schema = new Schema({ text: String });
const DEFAULT = defineTenantEntity(null, schema);
const NOTES = defineTenantEntity('notes', schema);

function fakeDb(name: string): FakeDb {
  const db: FakeDb = {
    name,
    // Every call compiles a new, distinguishable model bound to this database.
    model: jest.fn((modelName: string, _schema: Schema, collectionName: string) => ({ modelName, collectionName, db })),
    deleteModel: jest.fn(),
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
      throw new ConflictException(TENANT_BUSY);
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

function serviceFor(mode: TenancyMode, fake: ReturnType<typeof fakeConnection>) {
  const settings: Partial<Environment> = { TENANCY_MODE: mode, MASTER_DB_NAME: 'master_db' };
  const config = { get: (key: keyof Environment) => settings[key] } as unknown as ConfigService<Environment, true>;
  const registry = { recordEntity: fake.recordEntity } as unknown as TenantRegistry;
  return new TenantConnectionService(fake.connection as unknown as Connection, registry, config);
}

function tenant(entities: string[] = []): Tenant {
  return { id: new Types.ObjectId().toHexString(), storageName: 'org_x', entities };
}

describe('TenantConnectionService in collection mode', () => {
  it('names and collects the default model org_x and an entity model org_x__notes', async () => {
    const fake = fakeConnection();
    const { connection } = fake;
    const service = serviceFor(TenancyMode.Collection, fake);
    const org = tenant(['notes']);

    expect(await service.model(org, DEFAULT)).toMatchObject({ modelName: 'org_x', collectionName: 'org_x' });
    expect(await service.model(org, NOTES)).toMatchObject({
      modelName: 'org_x__notes',
      collectionName: 'org_x__notes',
    });
    expect(connection.model).toHaveBeenCalledWith('org_x__notes', schema, 'org_x__notes');
    expect(connection.useDb).not.toHaveBeenCalled();
  });

  it('compiles each model once and returns the same instance afterwards, even to concurrent callers', async () => {
    const fake = fakeConnection();
    const { connection } = fake;
    const service = serviceFor(TenancyMode.Collection, fake);
    const org = tenant();

    const [first, concurrent] = await Promise.all([service.model(org, NOTES), service.model(org, NOTES)]);
    const later = await service.model(org, NOTES);

    expect(concurrent).toBe(first);
    expect(later).toBe(first);
    expect(connection.model).toHaveBeenCalledTimes(1);
  });

  it('records a new entity in the registry before compiling its model', async () => {
    const fake = fakeConnection();
    const { connection, recordEntity } = fake;
    const service = serviceFor(TenancyMode.Collection, fake);
    const org = tenant();

    await service.model(org, NOTES);

    expect(recordEntity).toHaveBeenCalledWith(org.id, 'notes');
    expect(recordEntity.mock.invocationCallOrder[0]).toBeLessThan(connection.model.mock.invocationCallOrder[0]);
  });

  it('records neither the default entity nor an entity the organization already lists', async () => {
    const fake = fakeConnection();
    const { connection, recordEntity } = fake;
    const service = serviceFor(TenancyMode.Collection, fake);

    await service.model(tenant(['notes']), DEFAULT);
    await service.model(tenant(['notes']), NOTES);

    expect(recordEntity).not.toHaveBeenCalled();
    expect(connection.model).toHaveBeenCalledTimes(2);
  });

  it('throws a ConflictException and compiles nothing when no active organization matched', async () => {
    const fake = fakeConnection(false);
    const { connection } = fake;
    const service = serviceFor(TenancyMode.Collection, fake);

    await expect(service.model(tenant(), NOTES)).rejects.toBeInstanceOf(ConflictException);
    expect(connection.model).not.toHaveBeenCalled();
  });

  it('release deletes the compiled models from the connection, so that the next call compiles again', async () => {
    const fake = fakeConnection();
    const { connection } = fake;
    const service = serviceFor(TenancyMode.Collection, fake);
    const org = tenant(['notes']);
    const before = await service.model(org, NOTES);
    await service.model(org, DEFAULT);

    service.release('org_x');
    service.release('org_unknown');

    expect(connection.deleteModel.mock.calls.map(([name]) => name).sort()).toEqual(['org_x', 'org_x__notes']);
    const after = await service.model(org, NOTES);
    expect(after).not.toBe(before);
    expect(after).toMatchObject({ modelName: 'org_x__notes', collectionName: 'org_x__notes' });
    expect(connection.model).toHaveBeenCalledTimes(3);
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
    const { connection, tenantDbs } = fake;
    const service = serviceFor(TenancyMode.Database, fake);
    const org = tenant(['notes']);

    const data = await service.model(org, DEFAULT);
    const notes = await service.model(org, NOTES);

    expect(connection.useDb).toHaveBeenCalledWith('org_x', { useCache: true });
    expect(data).toMatchObject({ modelName: 'data', collectionName: 'data', db: tenantDbs.get('org_x') });
    expect(notes).toMatchObject({ modelName: 'notes', collectionName: 'notes', db: tenantDbs.get('org_x') });
    expect(connection.model).not.toHaveBeenCalled();
  });

  it('release forgets the models of that database only, so that the next call compiles again', async () => {
    const fake = fakeConnection();
    const { connection, tenantDbs } = fake;
    const service = serviceFor(TenancyMode.Database, fake);
    const org = tenant(['notes']);
    const before = await service.model(org, DEFAULT);
    await service.model(org, NOTES);
    const other = await service.model({ ...tenant(), storageName: 'org_y' }, DEFAULT);

    service.release('org_x');

    expect(
      tenantDbs
        .get('org_x')!
        .deleteModel.mock.calls.map(([name]) => name)
        .sort(),
    ).toEqual(['data', 'notes']);
    expect(tenantDbs.get('org_y')!.deleteModel).not.toHaveBeenCalled();
    expect(connection.deleteModel).not.toHaveBeenCalled();
    expect(await service.model(org, DEFAULT)).not.toBe(before);
    expect(await service.model({ ...tenant(), storageName: 'org_y' }, DEFAULT)).toBe(other);
  });

  it('drops the cached database handle a minute after release, unless the tenant is in use again', async () => {
    jest.useFakeTimers();
    try {
      const fake = fakeConnection();
      const { connection } = fake;
      const service = serviceFor(TenancyMode.Database, fake);
      await service.model(tenant(), DEFAULT);
      await service.model({ ...tenant(), storageName: 'org_y' }, DEFAULT);

      service.release('org_x');
      service.release('org_y');
      await service.model({ ...tenant(), storageName: 'org_y' }, DEFAULT);
      jest.advanceTimersByTime(59_000);
      expect(connection.removeDb).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1_000);

      expect(connection.removeDb.mock.calls).toEqual([['org_x']]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('lists the data collection and every recorded entity in the tenant database', () => {
    const service = serviceFor(TenancyMode.Database, fakeConnection());
    expect(service.collectionsOf({ storageName: 'org_x', entities: ['notes'] })).toEqual([
      { database: 'org_x', collection: 'data' },
      { database: 'org_x', collection: 'notes' },
    ]);
  });
});
