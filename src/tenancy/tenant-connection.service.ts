import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectConnection } from '@nestjs/mongoose';
import { Connection, Model } from 'mongoose';
import { Environment, TenancyMode } from '../config/environment';
import { DEFAULT_DATABASE_COLLECTION, tenantCollectionName } from './storage-names';
import { Tenant, TenantEntity, TenantStorage } from './tenant';
import { TenantRegistry } from './tenant-registry.service';

/** Long enough for any request that picked up a model before a rename or delete to finish with it. */
const DATABASE_HANDLE_GRACE_MS = 60_000;

/** `useDb({ useCache: true })` keeps its handles here; `removeDb` is public but missing from the types. */
type CachingConnection = Connection & { relatedDbs: Record<string, Connection>; removeDb(name: string): void };

/** Where one of a tenant's entities lives: a database and a collection in it. */
export interface TenantCollection {
  readonly database: string;
  readonly collection: string;
}

/**
 * Gives every module models bound to one tenant's storage, over the single shared connection.
 * Models are compiled once per tenant and entity, and released when the tenant's storage moves or goes.
 */
@Injectable()
export class TenantConnectionService implements OnModuleDestroy {
  readonly mode: TenancyMode;
  private readonly masterDatabase: string;
  private readonly models = new Map<string, Map<string | null, Model<any>>>();
  private readonly pendingDatabaseRemovals = new Map<string, NodeJS.Timeout>();

  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly registry: TenantRegistry,
    config: ConfigService<Environment, true>,
  ) {
    this.mode = config.get('TENANCY_MODE', { infer: true });
    this.masterDatabase = config.get('MASTER_DB_NAME', { infer: true });
  }

  async model<T>(tenant: Tenant, entity: TenantEntity<T>): Promise<Model<T>> {
    const cached = this.models.get(tenant.storageName)?.get(entity.name);
    if (cached) {
      return cached as Model<T>;
    }
    if (entity.name !== null && !tenant.entities.includes(entity.name)) {
      await this.registry.recordEntity(tenant.id, entity.name);
    }
    return this.compile(tenant.storageName, entity);
  }

  /** Every collection the tenant may have, from its own record: never from listing the server. */
  collectionsOf(tenant: TenantStorage): TenantCollection[] {
    return [null, ...tenant.entities].map((entity) => this.locate(tenant.storageName, entity));
  }

  private locate(storageName: string, entity: string | null): TenantCollection {
    if (this.mode === TenancyMode.Database) {
      return { database: storageName, collection: entity ?? DEFAULT_DATABASE_COLLECTION };
    }
    return { database: this.masterDatabase, collection: tenantCollectionName(storageName, entity) };
  }

  /**
   * Forgets the compiled models of a storage that is being moved or dropped, so the next call
   * compiles against the tenant's new storage. A request already holding one may still finish with
   * it, so in database mode the cached database handle is dropped only after a grace period.
   */
  release(storageName: string): void {
    for (const model of this.models.get(storageName)?.values() ?? []) {
      model.db.deleteModel(model.modelName);
    }
    this.models.delete(storageName);
    if (this.mode === TenancyMode.Database && !this.pendingDatabaseRemovals.has(storageName)) {
      const timer = setTimeout(() => this.removeDatabaseHandle(storageName), DATABASE_HANDLE_GRACE_MS);
      this.pendingDatabaseRemovals.set(storageName, timer.unref());
    }
  }

  onModuleDestroy(): void {
    this.pendingDatabaseRemovals.forEach((timer) => clearTimeout(timer));
    this.pendingDatabaseRemovals.clear();
  }

  private removeDatabaseHandle(storageName: string): void {
    this.pendingDatabaseRemovals.delete(storageName);
    const cached = (this.connection as CachingConnection).relatedDbs[storageName];
    if (cached && !this.models.has(storageName)) {
      (this.connection as CachingConnection).removeDb(storageName);
    }
  }

  private compile<T>(storageName: string, entity: TenantEntity<T>): Model<T> {
    let models = this.models.get(storageName);
    const existing = models?.get(entity.name);
    if (existing) {
      return existing as Model<T>;
    }
    const { collection } = this.locate(storageName, entity.name);
    const model =
      this.mode === TenancyMode.Database
        ? this.connection.useDb(storageName, { useCache: true }).model<T>(collection, entity.schema, collection)
        : this.connection.model<T>(collection, entity.schema, collection);
    if (!models) {
      models = new Map();
      this.models.set(storageName, models);
    }
    models.set(entity.name, model);
    return model;
  }
}
