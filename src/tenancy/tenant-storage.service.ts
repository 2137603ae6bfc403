import { Injectable, Logger } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { Connection, mongo } from 'mongoose';
import { DUPLICATE_KEY, isNamespaceExistsError, isNamespaceNotFoundError } from '../common/mongo-errors';
import { TenancyMode } from '../config/environment';
import { TenantCollection, TenantConnectionService } from './tenant-connection.service';
import { TenantStorage } from './tenant';

/** Resolves when the operation may go on; throws to stop it before it touches storage. */
type StepGuard = () => Promise<void>;
const COPY_BATCH_SIZE = 1000;

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
   * `beforeEachStep` runs before every collection moved and before the old storage is dropped: the
   * caller's chance to stop if it no longer owns the operation.
   */
  async move(from: TenantStorage, toStorageName: string, beforeEachStep: StepGuard): Promise<void> {
    const targets = this.tenancy.collectionsOf({ storageName: toStorageName, entities: from.entities });
    for (const [index, source] of this.tenancy.collectionsOf(from).entries()) {
      await beforeEachStep();
      await this.moveCollection(source, targets[index]);
    }
    if (this.tenancy.mode === TenancyMode.Database) {
      await beforeEachStep();
      await this.client().db(from.storageName).dropDatabase();
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
   * Carries whatever landed under a vacated name after its organization moved (late writes of
   * requests that began before the rename) into the organization's current storage, then drops it.
   * Everything there was written after the move, so it replaces the document of the same _id (a late
   * update or upsert); repeating the carry after a crash is harmless.
   */
  async carry(from: TenantStorage, to: TenantStorage, beforeEachStep: StepGuard): Promise<void> {
    const targets = this.tenancy.collectionsOf({ storageName: to.storageName, entities: from.entities });
    for (const [index, source] of this.tenancy.collectionsOf(from).entries()) {
      await beforeEachStep();
      await this.copyCollection(source, targets[index], this.replaceAll);
    }
    await beforeEachStep();
    await this.drop(from, beforeEachStep);
  }

  private moveCollection(source: TenantCollection, target: TenantCollection): Promise<void> {
    return this.tenancy.mode === TenancyMode.Database
      ? this.copyCollection(source, target)
      : this.renameCollection(source, target);
  }

  /** Atomic on the server: afterwards the documents are under exactly one of the two names. */
  private async renameCollection(source: TenantCollection, target: TenantCollection): Promise<void> {
    try {
      await this.ignoringMissing(
        this.client()
          .db('admin')
          .command({
            renameCollection: `${source.database}.${source.collection}`,
            to: `${target.database}.${target.collection}`,
          }),
      );
    } catch (error) {
      if (!isNamespaceExistsError(error)) {
        throw error;
      }
      // A resumed rename moved this collection already, and a late write made the source again:
      // what is there now was written after the move, and joins the moved documents.
      await this.copyCollection(source, target, this.replaceAll);
      await this.ignoringMissing(this.client().db(source.database).dropCollection(source.collection));
    }
  }

  /**
   * Copies in _id order and skips documents already copied by an interrupted earlier run; the
   * source is dropped only once the target holds every document.
   */
  private async copyCollection(
    source: TenantCollection,
    target: TenantCollection,
    write: (to: mongo.Collection, documents: mongo.Document[]) => Promise<void> = this.insertMissing.bind(this),
  ): Promise<void> {
    const from = this.client().db(source.database).collection(source.collection);
    const to = this.client().db(target.database).collection(target.collection);
    await this.copyIndexes(from, to);
    let batch: mongo.Document[] = [];
    for await (const document of from.find({}, { sort: { _id: 1 }, batchSize: COPY_BATCH_SIZE })) {
      batch.push(document);
      if (batch.length === COPY_BATCH_SIZE) {
        await write(to, batch);
        batch = [];
      }
    }
    await write(to, batch);
    const [copied, expected] = await Promise.all([to.countDocuments(), from.countDocuments()]);
    if (copied < expected) {
      throw new Error(`Copy of ${source.database}.${source.collection} is incomplete: ${copied} of ${expected}`);
    }
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

  private readonly replaceAll = async (to: mongo.Collection, documents: mongo.Document[]): Promise<void> => {
    if (documents.length > 0) {
      await to.bulkWrite(
        documents.map((document) => ({
          replaceOne: { filter: { _id: document._id }, replacement: document, upsert: true },
        })),
        { ordered: false },
      );
    }
  };

  private async insertMissing(to: mongo.Collection, documents: mongo.Document[]): Promise<void> {
    if (documents.length === 0) {
      return;
    }
    try {
      await to.insertMany(documents, { ordered: false });
    } catch (error) {
      if (!(error instanceof mongo.MongoBulkWriteError)) {
        throw error;
      }
      const writeErrors = ([] as mongo.WriteError[]).concat(error.writeErrors);
      if (!writeErrors.every((writeError) => writeError.code === DUPLICATE_KEY)) {
        throw error;
      }
      this.logger.log(`Resumed copy into ${to.namespace}: ${writeErrors.length} documents were already there`);
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
