import { ConflictException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Connection, Schema, Types } from 'mongoose';
import { Environment, TenancyMode } from '../config/environment';
import { defineTenantEntity, Tenant, TENANT_REGISTRY_COLLECTION } from './tenant';
import { TenantConnectionService } from './tenant-connection.service';

interface FakeModel {
  modelName: string;
  collectionName: string;
  database: string;
}

const schema = new Schema({ text: String });
const DEFAULT = defineTenantEntity(null, schema);
const NOTES = defineTenantEntity('notes', schema);

/** A stand-in for the shared Mongoose connection: every `model` call compiles a new, distinguishable object. */
function fakeConnection(matchedCount = 1) {
  const compile = (database: string) =>
    jest.fn((name: string, _schema: Schema, collectionName: string): FakeModel => ({ modelName: name, collectionName, database }));
  const tenantDbs: Array<{ name: string; model: ReturnType<typeof compile> }> = [];
  const updateOne = jest.fn().mockResolvedValue({ matchedCount });
  const connection = {
    model: compile('master_db'),
    useDb: jest.fn((name: string) => {
      const db = { name, model: compile(name) };
      tenantDbs.push(db);
      return db;
    }),
    deleteModel: jest.fn(),
    removeDb: jest.fn(),
    collection: jest.fn(() => ({ updateOne })),
  };
  return { connection, updateOne, tenantDbs };
}

function serviceFor(mode: TenancyMode, connection: ReturnType<typeof fakeConnection>['connection']) {
  const settings: Partial<Environment> = { TENANCY_MODE: mode, MASTER_DB_NAME: 'master_db' };
  const config = { get: (key: keyof Environment) => settings[key] } as unknown as ConfigService<Environment, true>;
  return new TenantConnectionService(connection as unknown as Connection, config);
}

function tenant(entities: string[] = []): Tenant {
  return { id: new Types.ObjectId().toHexString(), storageName: 'org_x', entities };
}

describe('TenantConnectionService in collection mode', () => {
  it('names and collects the default model org_x and an entity model org_x__notes', async () => {
    const { connection } = fakeConnection();
    const service = serviceFor(TenancyMode.Collection, connection);
    const org = tenant(['notes']);

    expect(await service.model(org, DEFAULT)).toEqual({ modelName: 'org_x', collectionName: 'org_x', database: 'master_db' });
    expect(await service.model(org, NOTES)).toMatchObject({ modelName: 'org_x__notes', collectionName: 'org_x__notes' });
    expect(connection.model).toHaveBeenCalledWith('org_x__notes', schema, 'org_x__notes');
    expect(connection.useDb).not.toHaveBeenCalled();
  });

  it('compiles each model once and returns the same instance afterwards, even to concurrent callers', async () => {
    const { connection } = fakeConnection();
    const service = serviceFor(TenancyMode.Collection, connection);
    const org = tenant();

    const [first, concurrent] = await Promise.all([service.model(org, NOTES), service.model(org, NOTES)]);
    const later = await service.model(org, NOTES);

    expect(concurrent).toBe(first);
    expect(later).toBe(first);
    expect(connection.model).toHaveBeenCalledTimes(1);
  });

  it('records a new entity on the active organization with $addToSet before compiling its model', async () => {
    const { connection, updateOne } = fakeConnection();
    const service = serviceFor(TenancyMode.Collection, connection);
    const org = tenant();

    await service.model(org, NOTES);

    expect(connection.collection).toHaveBeenCalledWith(TENANT_REGISTRY_COLLECTION);
    expect(updateOne).toHaveBeenCalledWith(
      { _id: new Types.ObjectId(org.id), state: 'active' },
      { $addToSet: { entities: 'notes' } },
    );
    expect(updateOne.mock.invocationCallOrder[0]).toBeLessThan(connection.model.mock.invocationCallOrder[0]);
  });

  it('records neither the default entity nor an entity the organization already lists', async () => {
    const { connection, updateOne } = fakeConnection();
    const service = serviceFor(TenancyMode.Collection, connection);

    await service.model(tenant(['notes']), DEFAULT);
    await service.model(tenant(['notes']), NOTES);

    expect(updateOne).not.toHaveBeenCalled();
    expect(connection.model).toHaveBeenCalledTimes(2);
  });

  it('throws a ConflictException and compiles nothing when no active organization matched', async () => {
    const { connection } = fakeConnection(0);
    const service = serviceFor(TenancyMode.Collection, connection);

    await expect(service.model(tenant(), NOTES)).rejects.toBeInstanceOf(ConflictException);
    expect(connection.model).not.toHaveBeenCalled();
  });

  it('release deletes the compiled models, so that the next call compiles again', async () => {
    const { connection } = fakeConnection();
    const service = serviceFor(TenancyMode.Collection, connection);
    const org = tenant(['notes']);
    const before = await service.model(org, NOTES);
    await service.model(org, DEFAULT);

    service.release('org_x');
    service.release('org_unknown');

    expect(connection.deleteModel.mock.calls.map(([name]) => name).sort()).toEqual(['org_x', 'org_x__notes']);
    expect(connection.removeDb).not.toHaveBeenCalled();
    const after = await service.model(org, NOTES);
    expect(after).not.toBe(before);
    expect(after).toEqual(before);
  });

  it('lists the default collection and every recorded entity in the master database', () => {
    const service = serviceFor(TenancyMode.Collection, fakeConnection().connection);
    expect(service.collectionsOf({ storageName: 'org_x', entities: ['notes', 'tasks'] })).toEqual([
      { database: 'master_db', collection: 'org_x' },
      { database: 'master_db', collection: 'org_x__notes' },
      { database: 'master_db', collection: 'org_x__tasks' },
    ]);
  });
});

describe('TenantConnectionService in database mode', () => {
  it('compiles models in the cached org_x database, in collections data and notes', async () => {
    const { connection, tenantDbs } = fakeConnection();
    const service = serviceFor(TenancyMode.Database, connection);
    const org = tenant(['notes']);

    expect(await service.model(org, DEFAULT)).toEqual({ modelName: 'data', collectionName: 'data', database: 'org_x' });
    expect(await service.model(org, NOTES)).toEqual({ modelName: 'notes', collectionName: 'notes', database: 'org_x' });
    expect(connection.useDb).toHaveBeenCalledWith('org_x', { useCache: true });
    expect(tenantDbs.every((db) => db.name === 'org_x')).toBe(true);
    expect(connection.model).not.toHaveBeenCalled();
  });

  it('release removes the cached database instead of deleting models, so that the next call compiles again', async () => {
    const { connection } = fakeConnection();
    const service = serviceFor(TenancyMode.Database, connection);
    const org = tenant();
    const before = await service.model(org, DEFAULT);

    service.release('org_x');

    expect(connection.removeDb).toHaveBeenCalledWith('org_x');
    expect(connection.deleteModel).not.toHaveBeenCalled();
    expect(await service.model(org, DEFAULT)).not.toBe(before);
    expect(connection.useDb).toHaveBeenCalledTimes(2);
  });

  it('lists the data collection and every recorded entity in the tenant database', () => {
    const service = serviceFor(TenancyMode.Database, fakeConnection().connection);
    expect(service.collectionsOf({ storageName: 'org_x', entities: ['notes'] })).toEqual([
      { database: 'org_x', collection: 'data' },
      { database: 'org_x', collection: 'notes' },
    ]);
  });
});
