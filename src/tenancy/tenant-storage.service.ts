import { Injectable, Logger } from '@nestjs/common';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import { randomUUID } from 'node:crypto';
import { Connection, Model, mongo, Types } from 'mongoose';
import { DatabaseClock } from '../common/clock';
import { DUPLICATE_KEY, isNamespaceNotFoundError } from '../common/mongo-errors';
import { TenancyMode } from '../config/environment';
import { Aside } from './schemas/aside.schema';
import { storageNameForSlug } from './storage-names';
import { definedEntityNames, TenantState, TenantStorage } from './tenant';
import { TenantCollection, TenantConnectionService } from './tenant-connection.service';
import { StorageHolder, TenantRegistry } from './tenant-registry.service';
import { TENANT_FIELD } from './tenant-stamp';

/** Resolves when the operation may go on; throws to stop it before it touches storage. */
type StepGuard = () => Promise<void>;
const COPY_BATCH_SIZE = 1000;
/** Between a collection's name and its aside's id; no entity name has a dot. */
const ASIDE_SEPARATOR = '.moving.';

/** What the operation that empties a storage name does with its own organization's documents. */
interface Evacuation {
  /** The organization whose operation it is: documents without a stamp (from before stamps) are its. */
  tenantId?: string;
  /** They go (a delete, a rolled-back create); otherwise they follow the organization's record. */
  discardOwn?: boolean;
}

/** Where one owner's documents go: its storage as of a generation, nowhere, or not yet (being created). */
type Route = { storageName: string; generation: number } | 'discard' | 'wait';

/**
 * Moves and drops tenant storage without ever destroying what another organization holds, however late
 * a step runs. MongoDB has no conditional drop or rename, so a step that runs after its operation was
 * taken over (an instance frozen past its lease and the name's reservation) may act on a name another
 * organization holds by then. So no step drops or moves a storage name's collection in place: each is
 * first renamed aside under a name of its own (`settle` then sends every document, by its stamp, to
 * where its owner keeps it now) and only the aside is ever dropped. A step that ran too late thus
 * returns what it took to its owner, and an aside whose step died is settled by recovery.
 */
@Injectable()
export class TenantStorageService {
  private readonly logger = new Logger(TenantStorageService.name);

  constructor(
    @InjectConnection() private readonly connection: Connection,
    @InjectModel(Aside.name) private readonly asides: Model<Aside>,
    private readonly tenancy: TenantConnectionService,
    private readonly registry: TenantRegistry,
    private readonly databaseClock: DatabaseClock,
  ) {}

  /**
   * Empties a storage name the organization is leaving (a rename, or the end of a reservation after
   * one): its documents go where its record says, the target of its rename or its current storage.
   * `beforeEachStep` runs before each collection: the caller's chance to stop once it no longer owns
   * the operation.
   */
  move(storage: TenantStorage, tenantId: string, beforeEachStep: StepGuard): Promise<void> {
    return this.evacuate(storage, { tenantId }, beforeEachStep);
  }

  /** A delete, or a create rolled back: the organization's documents go. */
  drop(storage: TenantStorage, tenantId: string, beforeEachStep: StepGuard): Promise<void> {
    return this.evacuate(storage, { tenantId, discardOwn: true }, beforeEachStep);
  }

  /**
   * Empties a storage name that a create or a rename has just claimed, so that nothing found there
   * ever joins the organization's data. There is normally nothing: a former owner's late writes are
   * dropped or carried off, by its recorded entities, before its reserved name is free again. Only
   * the entities defined in this code are looked for here: an entity's collection is always recorded
   * before its first write, so one neither recorded nor defined was never written by this service.
   */
  dropLeftovers(storageName: string, beforeEachStep: StepGuard): Promise<void> {
    return this.evacuate({ storageName, entities: [] }, {}, beforeEachStep);
  }

  /** Recovery: settles the asides whose step has not for a while (it died, or waits for an owner). */
  async settleAsidesOlderThan(ageMs: number): Promise<void> {
    const before = new Date(this.databaseClock.now().getTime() - ageMs);
    for (const aside of await this.asides
      .find({ created_at: { $lt: before } })
      .lean()
      .exec()) {
      await this.settle(aside);
    }
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

  /**
   * Sets aside every collection under the name and settles it. Asides of an earlier attempt on the
   * same name (a crash, or an owner that was being created) go first. Late writes that recreate a
   * collection meanwhile are the reservation's to move, which runs this again.
   */
  private async evacuate(storage: TenantStorage, plan: Evacuation, beforeEachStep: StepGuard): Promise<void> {
    const { storageName } = storage;
    for (const aside of await this.asides.find({ storage_name: storageName }).lean().exec()) {
      await this.settle(aside);
    }
    for (const { collection, entity } of await this.collectionsUnder(storage)) {
      await beforeEachStep();
      const aside = await this.setAside(storageName, collection, entity, plan);
      if (aside) {
        await this.settle(aside);
      }
    }
  }

  /**
   * What is under a storage name now, asides excepted: in database mode all its database holds; in
   * collection mode the collections of the entities recorded for it or defined here, each looked up
   * by name (a pattern would walk every tenant's collections, on every create).
   */
  private async collectionsUnder(
    storage: TenantStorage,
  ): Promise<Array<{ collection: TenantCollection; entity: string | null }>> {
    const { storageName } = storage;
    const { database, collection: defaultCollection } = this.tenancy.locate(storageName, null);
    const byDatabase = this.tenancy.mode === TenancyMode.Database;
    const entityOf = new Map<string, string | null>(
      byDatabase
        ? []
        : [null, ...new Set([...storage.entities, ...definedEntityNames()])].map((entity) => [
            this.tenancy.locate(storageName, entity).collection,
            entity,
          ]),
    );
    const filter = byDatabase ? {} : { name: { $in: [...entityOf.keys()] } };
    const listed = await this.client().db(database).listCollections(filter, { nameOnly: true }).toArray();
    // The default collection first, then the entities by name: one order for every run of a step.
    return listed
      .map(({ name }) => name as string)
      .filter((name) => !name.startsWith('system.') && !name.includes(ASIDE_SEPARATOR))
      .sort((a, b) => (a === defaultCollection ? -1 : b === defaultCollection ? 1 : a.localeCompare(b)))
      .map((name) => ({
        collection: { database, collection: name },
        entity: name === defaultCollection ? null : byDatabase ? name : entityOf.get(name)!,
      }));
  }

  /** Recorded first, then renamed (atomic on the server); null if there was nothing to set aside. */
  private async setAside(
    storageName: string,
    source: TenantCollection,
    entity: string | null,
    plan: Evacuation,
  ): Promise<Aside | null> {
    const id = randomUUID();
    const aside: Aside = {
      _id: id,
      database: source.database,
      name: `${source.collection}${ASIDE_SEPARATOR}${id}`,
      storage_name: storageName,
      entity,
      ...(plan.tenantId ? { tenant_id: new Types.ObjectId(plan.tenantId) } : {}),
      discard_own: plan.discardOwn ?? false,
      created_at: this.databaseClock.now(),
    };
    await this.asides.create(aside);
    const renamed = await this.ignoringMissing(
      this.client()
        .db('admin')
        .command({
          renameCollection: `${source.database}.${source.collection}`,
          to: `${aside.database}.${aside.name}`,
        }),
    );
    if (renamed === undefined) {
      await this.asides.deleteOne({ _id: id }).exec();
      return null;
    }
    return aside;
  }

  /**
   * Sends each owner's documents in the aside to where its record says it keeps them, then drops the
   * aside, once every owner is confirmed, after its copy, to still keep them there. Safe to run at any
   * time, by anyone, any number of times: it copies, and drops nothing but the aside.
   */
  private async settle(aside: Aside): Promise<void> {
    const source = this.client().db(aside.database).collection(aside.name);
    const present = await this.client()
      .db(aside.database)
      .listCollections({ name: aside.name }, { nameOnly: true })
      .toArray();
    if (present.length === 0) {
      await this.asides.deleteOne({ _id: aside._id }).exec();
      return;
    }
    const owners = await this.ownersIn(source, aside);
    const routes = await this.routesOf([...owners.keys()], aside);
    for (const [owner, filter] of owners) {
      const route = routes.get(owner)!;
      if (typeof route === 'object') {
        const own = owner === aside.tenant_id?.toString() ? aside.tenant_id : undefined;
        await this.copyCollection(source, this.tenancy.locate(route.storageName, aside.entity), filter, own);
      }
    }
    const confirmed = await this.routesOf([...owners.keys()], aside);
    const settled = [...routes].every(([owner, route]) => route !== 'wait' && sameRoute(route, confirmed.get(owner)!));
    if (settled) {
      await this.ignoringMissing(source.drop());
      await this.asides.deleteOne({ _id: aside._id }).exec();
    }
  }

  /** Each owner's documents in the aside, by stamp; unstamped ones are the aside's operation's, if any. */
  private async ownersIn(source: mongo.Collection, aside: Aside): Promise<Map<string, mongo.Filter<mongo.Document>>> {
    const stamps = (await source.distinct(TENANT_FIELD)) as Types.ObjectId[];
    const owners = new Map<string, mongo.Filter<mongo.Document>>(
      stamps.map((stamp) => [stamp.toString(), { [TENANT_FIELD]: stamp }]),
    );
    if (aside.tenant_id) {
      // `null` also matches a missing field.
      owners.set(aside.tenant_id.toString(), { [TENANT_FIELD]: { $in: [aside.tenant_id, null] } });
    }
    return owners;
  }

  private async routesOf(owners: string[], aside: Aside): Promise<Map<string, Route>> {
    const holders = await this.registry.findStorageHolders(owners);
    return new Map(owners.map((owner) => [owner, this.routeOf(owner, holders.get(owner), aside)]));
  }

  private routeOf(owner: string, holder: StorageHolder | undefined, aside: Aside): Route {
    if (!holder || holder.state === TenantState.Deleting || holder.state === TenantState.Deleted) {
      return 'discard';
    }
    if (aside.discard_own && owner === aside.tenant_id?.toString()) {
      return 'discard';
    }
    const slug = holder.state === TenantState.Renaming ? holder.operation?.target_slug : holder.slug;
    if (holder.state === TenantState.Creating || !slug) {
      return 'wait';
    }
    return { storageName: storageNameForSlug(slug), generation: holder.storage_generation };
  }

  /**
   * Copies in _id order. The operation's own documents replace the target's of the same _id and stamp
   * (an interrupted copy, or the original of a late write, which the later document supersedes), and
   * get its stamp if they had none; another owner's join its storage without replacing anything there.
   */
  private async copyCollection(
    from: mongo.Collection,
    target: TenantCollection,
    filter: mongo.Filter<mongo.Document>,
    ownStamp?: Types.ObjectId,
  ): Promise<void> {
    const to = this.client().db(target.database).collection(target.collection);
    await this.copyIndexes(from, to);
    let batch: mongo.Document[] = [];
    const flush = async () => {
      await (ownStamp ? this.replaceAll(to, batch) : this.insertNew(to, batch));
      batch = [];
    };
    for await (const document of from.find(filter, { sort: { _id: 1 }, batchSize: COPY_BATCH_SIZE })) {
      batch.push(ownStamp ? { ...document, [TENANT_FIELD]: document[TENANT_FIELD] ?? ownStamp } : document);
      if (batch.length === COPY_BATCH_SIZE) {
        await flush();
      }
    }
    await flush();
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
   * stamp each document already there. Never a document of another organization: one with the same
   * _id and another stamp (garbage no request can reach) stays.
   */
  private async replaceAll(to: mongo.Collection, documents: mongo.Document[]): Promise<void> {
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

function sameRoute(a: Route, b: Route): boolean {
  return typeof a === 'object' && typeof b === 'object'
    ? a.storageName === b.storageName && a.generation === b.generation
    : a === b;
}
