import { Injectable, NotFoundException, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectConnection } from '@nestjs/mongoose';
import { LRUCache } from 'lru-cache';
import { Aggregate, Connection, Document, Model, Query } from 'mongoose';
import { Environment, TenancyMode } from '../config/environment';
import { DEFAULT_DATABASE_COLLECTION, tenantCollectionName } from './storage-names';
import {
  HANDLE_EXPIRED,
  retryLater,
  Tenant,
  TENANT_MOVED,
  TENANT_NOT_FOUND,
  TenantEntity,
  TenantStorage,
} from './tenant';
import { TenantRegistry } from './tenant-registry.service';
import { bindTenant } from './tenant-stamp';

/** `useDb({ useCache: true })` keeps its handles here; `removeDb` is public but missing from the types. */
type CachingConnection = Connection & { relatedDbs: Record<string, Connection>; removeDb(name: string): void };

/** Where one of a tenant's entities lives: a database and a collection in it. */
export interface TenantCollection {
  readonly database: string;
  readonly collection: string;
}

/** What became of a tenant's storage generation: moved elsewhere (a rename) or gone (a delete). */
export type RetiredAs = 'moved' | 'gone';

/** `{ middleware: false }` would skip the hooks that restrict every operation to the tenant. */
function refuseSkippedMiddleware(values: unknown[]): void {
  if (values.some((value) => value !== null && typeof value === 'object' && 'middleware' in value)) {
    throw new Error("A tenant model's operations always run its middleware: the tenant's restriction is in it");
  }
}

function optionsOf(object: unknown): unknown {
  return object instanceof Query ? object.getOptions() : undefined;
}

/** What would reach the storage past the tenant restriction: the driver's collection, the connection. */
const UNRESTRICTED = new Set<PropertyKey>(['collection', '$__collection', 'db', 'base', 'watch']);

interface CompiledModel {
  readonly storageName: string;
  readonly model: Model<unknown>;
}

/**
 * Gives every module handles on one tenant's storage, over the single shared connection.
 *
 * A handle is the entity's model, bound to the tenant's id and to the storage generation read when
 * the request was authorized. It refuses every operation once that generation has been retired here
 * (409 after a rename, 404 after a delete) and once TENANT_HANDLE_TTL_MS have passed since the
 * authorization. A write through a handle of another instance, which cannot know of the retirement,
 * lands under the old name, which stays reserved until no such write can arrive (see TenantRegistry).
 * Whatever the timing, every operation through it is restricted on the server to documents stamped
 * with its organization's id (see tenant-stamp.ts), and it does not give out the raw collection.
 *
 * Compiled models are cached by organization id and entity (never by a name another organization
 * may take next), least recently used first out, within TENANT_CACHE_SIZE and TENANT_CACHE_IDLE_MS.
 */
@Injectable()
export class TenantConnectionService implements OnModuleDestroy {
  readonly mode: TenancyMode;
  private readonly masterDatabase: string;
  private readonly handleTtlMs: number;
  private readonly models: LRUCache<string, CompiledModel>;
  /** Generations retired on this instance, kept while a handle of theirs may still be in use. */
  private readonly retired: LRUCache<string, { below: number; as: RetiredAs }>;
  private readonly databaseRemovals = new Map<string, NodeJS.Timeout>();

  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly registry: TenantRegistry,
    config: ConfigService<Environment, true>,
  ) {
    this.mode = config.get('TENANCY_MODE', { infer: true });
    this.masterDatabase = config.get('MASTER_DB_NAME', { infer: true });
    this.handleTtlMs = config.get('TENANT_HANDLE_TTL_MS', { infer: true });
    this.models = new LRUCache({
      max: config.get('TENANT_CACHE_SIZE', { infer: true }),
      ttl: config.get('TENANT_CACHE_IDLE_MS', { infer: true }),
      updateAgeOnGet: true,
      dispose: (compiled) => this.forget(compiled),
    });
    this.retired = new LRUCache({ max: 100_000, ttl: this.handleTtlMs });
  }

  /** The tenant's handle on an entity, for this request only. */
  async model<T>(tenant: Tenant, entity: TenantEntity<T>): Promise<Model<T>> {
    this.assertUsable(tenant);
    // Checked on every call: the cached model may predate the record this tenant was read from.
    if (entity.name !== null && !tenant.entities.includes(entity.name)) {
      await this.registry.recordEntity(tenant.id, entity.name);
    }
    return this.handle(tenant, this.compiled(tenant, entity).model as unknown as Model<T>);
  }

  /**
   * Called when this instance claims a tenant for a rename or delete (whose generation is then
   * `generation`): handles of older generations refuse from now on, and its models are dropped.
   */
  retire(tenantId: string, generation: number, as: RetiredAs): void {
    this.retired.set(tenantId, { below: generation, as });
    for (const key of [...this.models.keys()].filter((cached) => cached.startsWith(`${tenantId}:`))) {
      this.models.delete(key);
    }
  }

  /** How many compiled models the cache holds. */
  get cachedModels(): number {
    return this.models.size;
  }

  /** Every collection the tenant may have, from its own record: never from listing the server. */
  collectionsOf(tenant: TenantStorage): TenantCollection[] {
    return [null, ...tenant.entities].map((entity) => this.locate(tenant.storageName, entity));
  }

  /** Where an entity's collection of a storage name is, in the configured mode. */
  locate(storageName: string, entity: string | null): TenantCollection {
    if (this.mode === TenancyMode.Database) {
      return { database: storageName, collection: entity ?? DEFAULT_DATABASE_COLLECTION };
    }
    return { database: this.masterDatabase, collection: tenantCollectionName(storageName, entity) };
  }

  onModuleDestroy(): void {
    this.databaseRemovals.forEach((timer) => clearTimeout(timer));
    this.databaseRemovals.clear();
  }

  private assertUsable(tenant: Tenant): void {
    const retired = this.retired.get(tenant.id);
    if (retired && tenant.generation < retired.below) {
      throw retired.as === 'gone' ? new NotFoundException(TENANT_NOT_FOUND) : retryLater(TENANT_MOVED);
    }
    if (Date.now() - tenant.authorizedAt > this.handleTtlMs) {
      throw retryLater(HANDLE_EXPIRED);
    }
  }

  /**
   * The model itself, behind a proxy that checks the tenant before every call and `new`, and again
   * when a query it built runs or a document it made is saved: a query built before a rename and run
   * after it is refused too.
   */
  private handle<T>(tenant: Tenant, model: Model<T>): Model<T> {
    return new Proxy(model, {
      get: (target, property, receiver) => {
        if (UNRESTRICTED.has(property)) {
          throw new Error(
            `A tenant model does not give out its ${String(property)}: it would bypass the tenant's restriction`,
          );
        }
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') {
          return value;
        }
        return (...args: unknown[]) => {
          this.assertUsable(tenant);
          refuseSkippedMiddleware(args);
          const result = (value as (...args: unknown[]) => unknown).apply(target, args);
          return result instanceof Query || result instanceof Aggregate
            ? this.checkedBefore(tenant, result, 'exec')
            : result;
        };
      },
      construct: (target, args) => {
        this.assertUsable(tenant);
        return this.checkedBefore(tenant, Reflect.construct(target, args) as Document, 'save');
      },
    });
  }

  private checkedBefore<O extends Query<unknown, unknown> | Aggregate<unknown> | Document>(
    tenant: Tenant,
    object: O,
    method: 'exec' | 'save',
  ): O {
    const run = (object as unknown as Record<string, (...args: unknown[]) => unknown>)[method].bind(object);
    Object.defineProperty(object, method, {
      value: (...args: unknown[]) => {
        this.assertUsable(tenant);
        // Options set on the query or pipeline after it was made, or given to save().
        refuseSkippedMiddleware([...args, (object as { options?: unknown }).options, optionsOf(object)]);
        return run(...args);
      },
    });
    return object;
  }

  private compiled<T>(tenant: Tenant, entity: TenantEntity<T>): CompiledModel {
    const key = `${tenant.id}:${entity.name ?? ''}`;
    const cached = this.models.get(key);
    if (cached?.storageName === tenant.storageName) {
      return cached;
    }
    const { database, collection } = this.locate(tenant.storageName, entity.name);
    // Unique per organization, generation and entity: two organizations never share a model.
    const name = `${collection}.${tenant.id}.${tenant.generation}`;
    const db = this.mode === TenancyMode.Database ? this.databaseHandle(database) : this.connection;
    const model = db.model<T>(name, entity.schema, collection) as unknown as Model<unknown>;
    bindTenant(model, tenant.id);
    const compiled = { storageName: tenant.storageName, model };
    this.models.set(key, compiled);
    return compiled;
  }

  private databaseHandle(database: string): Connection {
    clearTimeout(this.databaseRemovals.get(database));
    this.databaseRemovals.delete(database);
    return this.connection.useDb(database, { useCache: true });
  }

  /**
   * Drops an evicted model from its connection; in database mode, also the database's handle once it
   * has no models left and no request can still hold one of them.
   */
  private forget({ model }: CompiledModel): void {
    const db = model.db;
    db.deleteModel(model.modelName);
    if (this.mode !== TenancyMode.Database || Object.keys(db.models).length > 0) {
      return;
    }
    const name = db.name;
    clearTimeout(this.databaseRemovals.get(name));
    const timer = setTimeout(() => {
      this.databaseRemovals.delete(name);
      const caching = this.connection as CachingConnection;
      if (caching.relatedDbs[name] && Object.keys(caching.relatedDbs[name].models).length === 0) {
        caching.removeDb(name);
      }
    }, this.handleTtlMs);
    this.databaseRemovals.set(name, timer.unref());
  }
}
