import { Injectable, Logger } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { Connection, mongo, Types } from 'mongoose';
import { DUPLICATE_KEY, isNamespaceExistsError, isNamespaceNotFoundError } from '../common/mongo-errors';
import { TenancyMode } from '../config/environment';
import { TenantCollection, TenantConnectionService } from './tenant-connection.service';
import { TenantStorage } from './tenant';
import { TENANT_FIELD } from './tenant-stamp';

/** Resolves when the operation may go on; throws to stop it before it touches storage. */
type StepGuard = () => Promise<void>;
const COPY_BATCH_SIZE = 1000;
/** Between a collection's name and its operation's id in an aside name; no entity name has a dot. */
const ASIDE_SEPARATOR = '.moving.';

/**
 * Moves and drops a tenant's storage. Every step can be repeated after a crash and ends in the
 * same state, so an interrupted operation is finished by simply running it again.
 */
@Injectable()
export class TenantStorageService {
  private readonly logger = new Logger(TenantStorageService.name);

  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly tenancy: TenantConnectionService,
  ) {}

  /**
   * Moves every collection of the storage under the new name. `beforeEachStep` runs before each one:
   * the caller's chance to stop if it no longer owns the operation. What is left under the old name
   * afterwards was written late, and is the reservation's to carry over (see `carry`): the old
   * database is not dropped here, so that no late write is lost between a copy and that drop.
   */
  async move(
    from: TenantStorage,
    toStorageName: string,
    operationId: string,
    beforeEachStep: StepGuard,
  ): Promise<void> {
    const targets = this.tenancy.collectionsOf({ storageName: toStorageName, entities: from.entities });
    for (const [index, source] of this.tenancy.collectionsOf(from).entries()) {
      await beforeEachStep();
      await this.moveCollection(source, targets[index], operationId);
    }
  }

  async drop(storage: TenantStorage, beforeEachStep: StepGuard): Promise<void> {
    if (this.tenancy.mode === TenancyMode.Database) {
      await beforeEachStep();
      await this.client().db(storage.storageName).dropDatabase();
      return;
    }
    for (const { database, collection } of this.tenancy.collectionsOf(storage)) {
      await beforeEachStep();
      await this.ignoringMissing(this.client().db(database).dropCollection(collection));
    }
  }

  /**
   * Empties a storage name that a create or a rename has just claimed, so that nothing found there
   * ever joins the organization's data. There is normally nothing: a former owner's late writes are
   * dropped or carried off before its reserved name is free again.
   */
  async dropLeftovers(storageName: string, beforeEachStep: StepGuard): Promise<void> {
    await beforeEachStep();
    if (this.tenancy.mode === TenancyMode.Database) {
      await this.client().db(storageName).dropDatabase();
      return;
    }
    // The default collection and its entities' (`<storage>__<entity>`): no slug contains `__`.
    const [{ database }] = this.tenancy.collectionsOf({ storageName, entities: [] });
    const leftovers = await this.client()
      .db(database)
      .listCollections({ name: { $regex: `^${storageName}(__|$)` } }, { nameOnly: true })
      .toArray();
    for (const { name } of leftovers) {
      await this.ignoringMissing(this.client().db(database).dropCollection(name));
    }
  }

  /**
   * Carries whatever the organization wrote under a vacated name after it moved (late writes of
   * requests that began before the rename) into its current storage, then drops the name's storage.
   * Only documents stamped with its id go: everything there of its own was written after the move, so
   * it replaces its document of the same _id (a late update or upsert); repeating the carry after a
   * crash is harmless.
   */
  async carry(from: TenantStorage, to: TenantStorage, tenantId: string, beforeEachStep: StepGuard): Promise<void> {
    const targets = this.tenancy.collectionsOf({ storageName: to.storageName, entities: from.entities });
    const own = { [TENANT_FIELD]: new Types.ObjectId(tenantId) };
    for (const [index, source] of this.tenancy.collectionsOf(from).entries()) {
      await beforeEachStep();
      await this.copyCollection(source, targets[index], own);
    }
    await this.drop(from, beforeEachStep);
  }

  /** Stamps the documents written before stamps existed with the organization's id. */
  async stampLegacyDocuments(storage: TenantStorage, tenantId: string): Promise<void> {
    for (const { database, collection } of this.tenancy.collectionsOf(storage)) {
      await this.client()
        .db(database)
        .collection(collection)
        .updateMany({ [TENANT_FIELD]: { $exists: false } }, { $set: { [TENANT_FIELD]: new Types.ObjectId(tenantId) } });
    }
  }

  private async moveCollection(source: TenantCollection, target: TenantCollection, operationId: string) {
    if (this.tenancy.mode === TenancyMode.Database) {
      await this.moveAcrossDatabases(source, target, operationId);
    } else {
      await this.renameCollection(source, target);
    }
  }

  /** Atomic on the server: afterwards the documents are under exactly one of the two names. */
  private async renameCollection(source: TenantCollection, target: TenantCollection): Promise<boolean> {
    try {
      const renamed = await this.ignoringMissing(
        this.client()
          .db('admin')
          .command({
            renameCollection: `${source.database}.${source.collection}`,
            to: `${target.database}.${target.collection}`,
          }),
      );
      return renamed !== undefined;
    } catch (error) {
      if (!isNamespaceExistsError(error)) {
        throw error;
      }
      // A resumed rename moved this collection already, and a late write made the source again:
      // it stays for the reservation to carry over.
      return false;
    }
  }

  /**
   * A collection first goes aside under a name of this operation's own in the old database (atomic,
   * and no request writes there), and is copied from there: a late write that arrives meanwhile
   * recreates the source instead of being lost, and is carried over later. Asides of an earlier
   * owner of the operation, which stalled or crashed, are copied first.
   */
  private async moveAcrossDatabases(source: TenantCollection, target: TenantCollection, operationId: string) {
    const prefix = `${source.collection}${ASIDE_SEPARATOR}`;
    const aside = { database: source.database, collection: `${prefix}${operationId}` };
    const earlier = await this.client()
      .db(source.database)
      .listCollections({ name: { $regex: `^${prefix.replaceAll('.', '\\.')}` } }, { nameOnly: true })
      .toArray();
    const asides = earlier.map(({ name }) => ({ database: source.database, collection: name as string }));
    if (await this.renameCollection(source, aside)) {
      asides.push(aside);
    }
    for (const moving of asides) {
      await this.copyCollection(moving, target);
      await this.ignoringMissing(this.client().db(moving.database).dropCollection(moving.collection));
    }
  }

  /**
   * Copies in _id order; a copied document replaces the target's of the same _id and stamp, so an
   * interrupted copy is simply run again. Copying never removes anything from the source.
   */
  private async copyCollection(
    source: TenantCollection,
    target: TenantCollection,
    filter: mongo.Filter<mongo.Document> = {},
  ): Promise<void> {
    const from = this.client().db(source.database).collection(source.collection);
    const to = this.client().db(target.database).collection(target.collection);
    await this.copyIndexes(from, to);
    let batch: mongo.Document[] = [];
    for await (const document of from.find(filter, { sort: { _id: 1 }, batchSize: COPY_BATCH_SIZE })) {
      batch.push(document);
      if (batch.length === COPY_BATCH_SIZE) {
        await this.replaceAll(to, batch);
        batch = [];
      }
    }
    await this.replaceAll(to, batch);
  }

  private async copyIndexes(from: mongo.Collection, to: mongo.Collection): Promise<void> {
    const indexes = (await this.ignoringMissing(from.indexes())) ?? [];
    const specs = indexes
      .filter((index) => index.name !== '_id_')
      .map(({ v: _version, ns: _namespace, ...spec }) => spec as mongo.IndexDescription);
    if (specs.length > 0) {
      await to.createIndexes(specs);
    }
  }

  /**
   * Inserts the batch (one round trip; the target of a move is empty), then replaces by _id and
   * stamp each document already there: one copied by an interrupted earlier run, or the original of
   * a late write, which the later document supersedes. Never a document of another organization: one
   * with the same _id and another stamp (garbage no request can reach) stays, dropped with its storage.
   */
  private async replaceAll(to: mongo.Collection, documents: mongo.Document[]): Promise<void> {
    if (documents.length === 0) {
      return;
    }
    const present = await this.insertNew(to, documents);
    const foreign = await this.insertNew(
      to,
      present.map((document) => ({
        replaceOne: {
          filter: { _id: document._id, [TENANT_FIELD]: document[TENANT_FIELD] },
          replacement: document,
          upsert: true,
        },
      })),
      true,
    );
    if (foreign.length > 0) {
      this.logger.warn(`Copy into ${to.namespace}: ${foreign.length} documents of another stamp left alone`);
    }
  }

  /** Runs the inserts (or replacements), and returns the documents refused for a duplicate _id. */
  private async insertNew(
    to: mongo.Collection,
    batch: mongo.Document[],
    asReplacements = false,
  ): Promise<mongo.Document[]> {
    if (batch.length === 0) {
      return [];
    }
    try {
      await (asReplacements
        ? to.bulkWrite(batch as mongo.AnyBulkWriteOperation[], { ordered: false })
        : to.insertMany(batch, { ordered: false }));
      return [];
    } catch (error) {
      const writeErrors = error instanceof mongo.MongoBulkWriteError ? [error.writeErrors].flat() : [];
      if (writeErrors.length === 0 || !writeErrors.every((writeError) => writeError.code === DUPLICATE_KEY)) {
        throw error;
      }
      return writeErrors.map((writeError) => batch[writeError.index]);
    }
  }

  private client(): mongo.MongoClient {
    return this.connection.getClient();
  }

  private async ignoringMissing<T>(operation: Promise<T>): Promise<T | undefined> {
    try {
      return await operation;
    } catch (error) {
      if (isNamespaceNotFoundError(error)) {
        return undefined;
      }
      throw error;
    }
  }
}
