import { Connection, mongo } from 'mongoose';
import { TenancyMode } from '../../src/config/environment';
import { toSlug } from '../../src/organizations/organization-name';
import { DEFAULT_DATABASE_COLLECTION, storageNameForSlug, tenantCollectionName } from '../../src/tenancy/storage-names';

/**
 * Where the tenancy layer keeps an organization's documents, in either mode, read with the MongoDB
 * driver: the one place the tests ask it, with the app's own naming functions (never a hand-made
 * `org_...`), laid out as TenantConnectionService.locate lays it out:
 *
 *   entity   collection mode                        database mode
 *   null     <master>.org_<slug>                    org_<slug>.data
 *   notes    <master>.org_<slug>__notes             org_<slug>.notes
 */

/** The storage name of an organization name: `org_<slug>`, hashed when the slug is very long. */
export const storageNameOf = (organizationName: string): string => storageNameForSlug(toSlug(organizationName));

/** The storage name of a slug. */
export const storageNameOfSlug = (slug: string): string => storageNameForSlug(slug);

/** One collection of a tenant: a database and a collection in it. */
export interface TenantCollectionName {
  database: string;
  collection: string;
}

export class TenantStorage {
  readonly client: mongo.MongoClient;

  constructor(
    clientOrConnection: mongo.MongoClient | Connection,
    readonly master: string,
    readonly mode: TenancyMode,
  ) {
    this.client = 'getClient' in clientOrConnection ? clientOrConnection.getClient() : clientOrConnection;
  }

  organizations(): mongo.Collection {
    return this.client.db(this.master).collection('organizations');
  }

  admins(): mongo.Collection {
    return this.client.db(this.master).collection('admins');
  }

  /** `null` is the default collection (the admin's entry); otherwise an entity such as `notes`. */
  locate(storageName: string, entity: string | null): TenantCollectionName {
    if (this.mode === TenancyMode.Database) {
      return { database: storageName, collection: entity ?? DEFAULT_DATABASE_COLLECTION };
    }
    return { database: this.master, collection: tenantCollectionName(storageName, entity) };
  }

  /**
   * The collection itself. Careful: mongo-java-server creates a database on first access, so
   * prefer `documents`, `count` and `exists` to ask about storage that may not exist.
   */
  collection(storageName: string, entity: string | null): mongo.Collection {
    const { database, collection } = this.locate(storageName, entity);
    return this.client.db(database).collection(collection);
  }

  /**
   * What the server lists of the storage: its database (database mode; with `collections`, the
   * collections in it), or its collections (collection mode). Asked of the server's listings, never
   * by opening it.
   */
  async listed(storageName: string, { collections = false } = {}): Promise<string[]> {
    if (this.mode === TenancyMode.Database) {
      const listed = (await this.databaseNames()).filter((name) => name === storageName);
      if (!collections || listed.length === 0) {
        return listed;
      }
      const inside = await this.client.db(storageName).listCollections({}, { nameOnly: true }).toArray();
      return inside.map(({ name }) => `${storageName}.${name}`);
    }
    const defaultCollection = tenantCollectionName(storageName, null);
    // `org_<slug>__`: what every entity collection's name starts with.
    const entityPrefix = tenantCollectionName(storageName, '');
    return (await this.collectionNames()).filter((name) => name === defaultCollection || name.startsWith(entityPrefix));
  }

  /** Whether anything of the storage is left. */
  async exists(storageName: string): Promise<boolean> {
    return (await this.listed(storageName)).length > 0;
  }

  /** The documents of one collection of the storage, by _id, or none if it does not exist (without creating it). */
  async documents(storageName: string, entity: string | null, filter: mongo.Filter<mongo.Document> = {}) {
    return (await this.holds(storageName, entity))
      ? this.collection(storageName, entity).find(filter).sort({ _id: 1 }).toArray()
      : [];
  }

  /** How many documents one collection of the storage holds; 0 if it does not exist (without creating it). */
  async count(storageName: string, entity: string | null, filter: mongo.Filter<mongo.Document> = {}) {
    return (await this.holds(storageName, entity)) ? this.collection(storageName, entity).countDocuments(filter) : 0;
  }

  async databaseNames(): Promise<string[]> {
    const { databases } = await this.client.db('admin').command({ listDatabases: 1 });
    return (databases as Array<{ name: string }>).map(({ name }) => name);
  }

  /** The collections of the master database (where collection mode keeps tenants). */
  async collectionNames(): Promise<string[]> {
    const collections = await this.client.db(this.master).listCollections({}, { nameOnly: true }).toArray();
    return collections.map(({ name }) => name);
  }

  /**
   * Drops the master database and, in database mode, the database of every slug its organizations
   * claim (in collection mode they are all in the master database).
   */
  async dropAll(): Promise<void> {
    if (this.mode === TenancyMode.Database) {
      const organizations = await this.organizations().find().toArray();
      for (const organization of organizations) {
        for (const slug of organization.claimed_slugs as string[]) {
          await this.client.db(storageNameOfSlug(slug)).dropDatabase();
        }
      }
    }
    await this.client.db(this.master).dropDatabase();
  }

  /** Whether that collection exists, asked without touching it. */
  private async holds(storageName: string, entity: string | null): Promise<boolean> {
    const { database, collection } = this.locate(storageName, entity);
    if (this.mode === TenancyMode.Database && !(await this.databaseNames()).includes(database)) {
      return false;
    }
    const present = await this.client.db(database).listCollections({ name: collection }, { nameOnly: true }).toArray();
    return present.length > 0;
  }
}
