import { ConflictException, Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import { randomUUID } from 'node:crypto';
import { Model, Types } from 'mongoose';
import { DatabaseClock } from '../common/clock';
import { isDuplicateKeyError } from '../common/mongo-errors';
import { Environment } from '../config/environment';
import { StateCache } from '../state-cache/state-cache.service';
import { OperationKind, Organization, PendingOperation, VacatedSlug } from './schemas/organization.schema';
import { NAME_RESERVED, retryLater, tenantBusy, TENANT_EXISTS, TenantState } from './tenant';

/** An organization together with the operation an instance holds on it. */
export type ClaimedTenant = Organization & { operation: PendingOperation };

/** What says where an organization keeps its documents. */
export type StorageHolder = Pick<Organization, '_id' | 'state' | 'slug' | 'operation' | 'storage_generation'>;

/** What changes when an operation completes. */
type TenantChanges = Partial<Pick<Organization, 'organization_name' | 'slug'>>;

/** A tenant being created is not visible yet, nor one deleted; one being renamed or deleted still is. */
const VISIBLE = { state: { $nin: [TenantState.Creating, TenantState.Deleted] } };
const INVISIBLE_STATES: ReadonlySet<TenantState> = new Set(VISIBLE.state.$nin);
const visibleOnly = (record: Organization | null) => (record && !INVISIBLE_STATES.has(record.state) ? record : null);
/** Tokens of a tenant that is being created or deleted no longer open anything. */
const TOKEN_USABLE = { state: { $in: [TenantState.Active, TenantState.Renaming] } };

const tokenStateKey = (id: Types.ObjectId | string) => `organization:${id.toString()}`;

/**
 * An operation whose lease has run out, judged by the database server's clock (`$$NOW`), which all
 * instances share: never by an instance's own, which may be skewed by more than a lease.
 */
const LEASE_EXPIRED = {
  'operation.lease_until': { $exists: true },
  $expr: { $lt: ['$operation.lease_until', '$$NOW'] },
};

/**
 * The registry of tenants: the one reader and writer of the organizations collection, and the one
 * place that knows its state rules. A multi-step operation (create, rename, delete) holds a tenant
 * through `claim*` under a lease; whoever renews or completes it proves it still holds the claim by
 * the operation's id, which changes when another instance takes an expired operation over. Names
 * a tenant gives up stay claimed, as reservations, until their late writes are dealt with
 * (`freeVacancy`); a deleted tenant stays as a tombstone until then.
 */
@Injectable()
export class TenantRegistry implements OnModuleInit {
  private readonly leaseMs: number;
  /**
   * Longer than another instance may serve the organization's record from its cache, plus a handle's
   * life, plus the longest an operation begun through it can take to reach the server (server
   * selection, then a pooled connection: DB_TIMEOUT_MS each) and to be answered
   * (DB_SOCKET_TIMEOUT_MS), with a second to spare.
   */
  readonly reservationMs: number;

  constructor(
    @InjectModel(Organization.name) private readonly organizations: Model<Organization>,
    config: ConfigService<Environment, true>,
    private readonly databaseClock: DatabaseClock,
    private readonly cache: StateCache,
  ) {
    this.leaseMs = config.get('OPERATION_LEASE_MS', { infer: true });
    this.reservationMs =
      config.get('TOKEN_STATE_TTL_MS', { infer: true }) +
      config.get('TENANT_HANDLE_TTL_MS', { infer: true }) +
      2 * config.get('DB_TIMEOUT_MS', { infer: true }) +
      config.get('DB_SOCKET_TIMEOUT_MS', { infer: true }) +
      1000;
  }

  /** The unique slug indexes must exist before two creates can race. */
  async onModuleInit(): Promise<void> {
    await this.organizations.init();
  }

  /** Refuses a name held by an organization (409), or given up and still reserved (409 with Retry-After). */
  async assertSlugFree(slug: string): Promise<void> {
    const conflict = await this.slugConflict(slug);
    if (conflict) {
      throw conflict;
    }
  }

  /** By the unique slug alone, its state checked here: a filter on more fields may not use the index. */
  async findVisibleBySlug(slug: string): Promise<Organization | null> {
    return visibleOnly(await this.organizations.findOne({ slug }).lean().exec());
  }

  async findVisibleById(id: string): Promise<Organization | null> {
    return visibleOnly(await this.organizations.findById(id).lean().exec());
  }

  /**
   * The tenant a token names, while its tokens still open anything; possibly as read up to
   * TOKEN_STATE_TTL_MS ago, if another instance changed it since (see StateCache).
   */
  findForToken(id: Types.ObjectId | string): Promise<Organization | null> {
    return this.cache.read(tokenStateKey(id), () =>
      this.organizations
        .findOne({ _id: id, ...TOKEN_USABLE })
        .lean()
        .exec(),
    );
  }

  async listVisible(skip: number, limit: number): Promise<{ items: Organization[]; total: number }> {
    const [items, total] = await Promise.all([
      this.organizations.find(VISIBLE).sort({ slug: 1 }).skip(skip).limit(limit).lean().exec(),
      this.organizations.countDocuments(VISIBLE).exec(),
    ]);
    return { items, total };
  }

  /** A new tenant, claimed by its create from the first write: invisible until `complete`. */
  async claimNew(tenant: { name: string; slug: string; adminId: Types.ObjectId }): Promise<ClaimedTenant> {
    try {
      const created = await this.organizations.create({
        organization_name: tenant.name,
        slug: tenant.slug,
        claimed_slugs: [tenant.slug],
        admin_id: tenant.adminId,
        state: TenantState.Creating,
        documents_stamped: true,
        operation: { kind: OperationKind.Create, ...this.newOwnership() },
      });
      return created.toObject() as ClaimedTenant;
    } catch (error) {
      throw isDuplicateKeyError(error) ? ((await this.slugConflict(tenant.slug)) ?? error) : error;
    }
  }

  /**
   * Marks an active tenant as busy, and raises its storage generation: handles read before are stale.
   * A rename also claims its target slug here, in the same atomic update, so no create or other
   * rename can take that name meanwhile; not one of its own reserved names, though (409), whose late
   * writes are still to be carried off.
   */
  async claimExisting(
    id: Types.ObjectId,
    state: TenantState.Renaming | TenantState.Deleting,
    operation: Omit<PendingOperation, 'id' | 'lease_until'>,
  ): Promise<ClaimedTenant> {
    const target = operation.target_slug;
    try {
      const claimed = await this.changing(id, () =>
        this.organizations
          .findOneAndUpdate(
            {
              _id: id,
              state: TenantState.Active,
              ...(target ? { $or: [{ slug: target }, { claimed_slugs: { $ne: target } }] } : {}),
            },
            {
              $set: { state, operation: { ...operation, ...this.newOwnership() } },
              $inc: { storage_generation: 1 },
              ...(target ? { $addToSet: { claimed_slugs: target } } : {}),
            },
            { returnDocument: 'after' },
          )
          .lean()
          .exec(),
      );
      if (!claimed) {
        // Busy, or the target is one of its own reserved names.
        throw (target && (await this.slugConflict(target, { _id: id, 'vacated_slugs.slug': target }))) || tenantBusy();
      }
      return claimed as ClaimedTenant;
    } catch (error) {
      throw isDuplicateKeyError(error) && target ? ((await this.slugConflict(target)) ?? error) : error;
    }
  }

  /** Same slug, so the same storage: only the display name changes, if nothing else changed meanwhile. */
  async renameDisplayOnly(tenant: Organization, name: string): Promise<Organization> {
    const renamed = await this.changing(tenant._id, () =>
      this.organizations
        .findOneAndUpdate(
          { _id: tenant._id, state: TenantState.Active, slug: tenant.slug },
          { $set: { organization_name: name } },
          { returnDocument: 'after' },
        )
        .lean()
        .exec(),
    );
    if (!renamed) {
      throw tenantBusy();
    }
    return renamed;
  }

  /** Ends the operation: the tenant is active again, with `changes` applied. */
  async complete(
    tenant: ClaimedTenant,
    from: TenantState,
    changes: { $set?: TenantChanges; $push?: object } = {},
  ): Promise<Organization> {
    const completed = await this.changing(tenant._id, () =>
      this.organizations
        .findOneAndUpdate(
          { _id: tenant._id, state: from, 'operation.id': tenant.operation.id },
          { ...changes, $set: { ...changes.$set, state: TenantState.Active }, $unset: { operation: 1 } },
          { returnDocument: 'after' },
        )
        .lean()
        .exec(),
    );
    if (!completed) {
      throw tenantBusy();
    }
    return completed;
  }

  /**
   * A rename that has moved nothing yet: the tenant goes back to active and lets its target name go,
   * unless the target is its own current slug (a rename that changes only the display name).
   */
  async abandonRename(tenant: ClaimedTenant): Promise<void> {
    const target = tenant.operation.target_slug;
    await this.changing(tenant._id, () =>
      this.organizations
        .updateOne(
          { _id: tenant._id, 'operation.id': tenant.operation.id },
          {
            $set: { state: TenantState.Active },
            $unset: { operation: 1 },
            ...(target && target !== tenant.slug ? { $pull: { claimed_slugs: target } } : {}),
          },
        )
        .exec(),
    );
  }

  /** The last step of a delete or of a rolled-back create. */
  async remove(tenant: ClaimedTenant): Promise<void> {
    await this.changing(tenant._id, () =>
      this.organizations.deleteOne({ _id: tenant._id, 'operation.id': tenant.operation.id }).exec(),
    );
  }

  /** Renews the lease; false once another instance has taken the operation over. */
  async renewLease(tenant: ClaimedTenant): Promise<boolean> {
    const { matchedCount } = await this.organizations
      .updateOne(
        { _id: tenant._id, 'operation.id': tenant.operation.id },
        { $set: { 'operation.lease_until': this.newOwnership().lease_until } },
      )
      .exec();
    return matchedCount === 1;
  }

  /** Renews the lease, and fails if another instance has taken the operation over meanwhile. */
  async confirmOwnership(tenant: ClaimedTenant): Promise<void> {
    if (!(await this.renewLease(tenant))) {
      throw tenantBusy();
    }
  }

  /** Keeps the lease fresh while a long step runs, so that recovery leaves a live operation alone. */
  async withLease<T>(tenant: ClaimedTenant, step: () => Promise<T>): Promise<T> {
    const renew = setInterval(
      () => void this.renewLease(tenant).catch(() => undefined),
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    try {
      return await step();
    } finally {
      clearInterval(renew);
    }
  }

  /** Operations whose lease has run out: their instance is presumed dead. */
  findExpiredOperations(): Promise<Organization[]> {
    return this.organizations
      .find({ state: { $ne: TenantState.Active }, ...LEASE_EXPIRED })
      .lean()
      .exec();
  }

  /** Takes an expired operation with a new id, so that its stalled owner, should it wake, stops at its next step. */
  async takeOver(tenant: Organization): Promise<ClaimedTenant | null> {
    const { id, lease_until } = this.newOwnership();
    const taken = await this.organizations
      .findOneAndUpdate(
        { _id: tenant._id, 'operation.id': tenant.operation?.id, ...LEASE_EXPIRED },
        { $set: { 'operation.id': id, 'operation.lease_until': lease_until } },
        { returnDocument: 'after' },
      )
      .lean()
      .exec();
    return taken?.operation ? (taken as ClaimedTenant) : null;
  }

  /**
   * Which of these ids name an organization in any state but deleted: recovery's test for admins
   * left without one (a create writes its organization before its admin).
   */
  async findExistingIds(ids: Types.ObjectId[]): Promise<Set<string>> {
    const existing = await this.organizations
      .find(
        {
          _id: { $in: ids },
          state: { $in: [TenantState.Creating, TenantState.Active, TenantState.Renaming, TenantState.Deleting] },
        },
        { _id: 1 },
      )
      .lean()
      .exec();
    return new Set(existing.map(({ _id }) => _id.toString()));
  }

  /** Where each of these organizations keeps its documents now, by id: the route of a document by its stamp. */
  async findStorageHolders(ids: string[]): Promise<Map<string, StorageHolder>> {
    const holders = await this.organizations
      .find(
        { _id: { $in: ids.map((id) => new Types.ObjectId(id)) } },
        { state: 1, slug: 1, operation: 1, storage_generation: 1 },
      )
      .lean()
      .exec();
    return new Map(holders.map((holder) => [holder._id.toString(), holder]));
  }

  /** Recorded before an entity's first write, so that rename and delete always find its collection. */
  async recordEntity(tenantId: string, entity: string): Promise<void> {
    const { matchedCount } = await this.changing(tenantId, () =>
      this.organizations
        .updateOne(
          { _id: new Types.ObjectId(tenantId), state: TenantState.Active },
          { $addToSet: { entities: entity } },
        )
        .exec(),
    );
    if (matchedCount === 0) {
      throw tenantBusy();
    }
  }

  /** The last step of a rename: the new name, and the old one kept reserved (see `freeVacancy`). */
  async completeRename(tenant: ClaimedTenant): Promise<Organization> {
    const { target_name: name, target_slug: slug } = tenant.operation;
    const vacated = slug === tenant.slug ? [] : [this.vacancy(tenant)];
    return this.complete(tenant, TenantState.Renaming, {
      $set: { organization_name: name, slug },
      $push: { vacated_slugs: { $each: vacated } },
    });
  }

  /** A rename's target storage has been emptied: a resumed rename must not empty it again. */
  async markTargetEmptied(tenant: ClaimedTenant): Promise<void> {
    await this.organizations
      .updateOne(
        { _id: tenant._id, 'operation.id': tenant.operation.id },
        { $set: { 'operation.target_emptied': true } },
      )
      .exec();
  }

  /**
   * The last step of a delete, or of a create rolled back by recovery: a tombstone that keeps its
   * names reserved until they are freed.
   */
  async entomb(tenant: ClaimedTenant): Promise<void> {
    await this.changing(tenant._id, () =>
      this.organizations
        .updateOne(
          { _id: tenant._id, 'operation.id': tenant.operation.id },
          {
            $set: { state: TenantState.Deleted },
            $unset: { operation: 1 },
            $push: { vacated_slugs: this.vacancy(tenant) },
          },
        )
        .exec(),
    );
  }

  /** Tenants with a reserved name whose reservation has run out, and that no instance is freeing. */
  findDueVacancies(): Promise<Organization[]> {
    const now = this.databaseClock.now();
    return this.organizations
      .find({
        'vacated_slugs.until': { $lt: now },
        $or: [{ vacancy_lease_until: { $exists: false } }, { vacancy_lease_until: { $lt: this.abandonedBefore(now) } }],
      })
      .lean()
      .exec();
  }

  /** Active organizations whose documents predate stamps, a batch at a time. */
  findUnstamped(limit = 100): Promise<Organization[]> {
    return this.organizations
      .find({ state: TenantState.Active, documents_stamped: { $ne: true } })
      .limit(limit)
      .lean()
      .exec();
  }

  /** Only if its storage has not moved since it was read: else the next sweep stamps it where it is now. */
  async markStamped(tenant: Organization): Promise<void> {
    await this.organizations
      .updateOne(
        { _id: tenant._id, state: TenantState.Active, storage_generation: tenant.storage_generation },
        { $set: { documents_stamped: true } },
      )
      .exec();
  }

  /** Takes the freeing of a tenant's due names, for one lease; null if another instance has it. */
  async takeVacancies(tenant: Organization): Promise<Organization | null> {
    const now = this.databaseClock.now();
    return this.organizations
      .findOneAndUpdate(
        {
          _id: tenant._id,
          $or: [
            { vacancy_lease_until: { $exists: false } },
            { vacancy_lease_until: { $lt: this.abandonedBefore(now) } },
          ],
        },
        { $set: { vacancy_lease_until: this.newOwnership().lease_until } },
        { returnDocument: 'after' },
      )
      .lean()
      .exec();
  }

  /** Whether a reserved name's reservation has run out, by the database server's clock. */
  isDue(vacancy: VacatedSlug): boolean {
    return vacancy.until.getTime() < this.databaseClock.now().getTime();
  }

  /**
   * A reserved name is free again (its late writes are carried off or dropped). A tombstone goes with
   * its last one, rather than keep a record that claims no name.
   */
  async freeVacancy(tenant: Organization, slug: string): Promise<void> {
    const { deletedCount } = await this.organizations
      .deleteOne({
        _id: tenant._id,
        state: TenantState.Deleted,
        vacated_slugs: { $size: 1 },
        'vacated_slugs.slug': slug,
      })
      .exec();
    if (deletedCount === 0) {
      await this.organizations
        .updateOne({ _id: tenant._id }, { $pull: { vacated_slugs: { slug }, claimed_slugs: slug } })
        .exec();
    }
  }

  /** Renews the lease on freeing the tenant's names, and fails if another instance has taken it over. */
  async confirmVacancies(tenant: Organization): Promise<void> {
    const lease_until = this.newOwnership().lease_until;
    const { matchedCount } = await this.organizations
      .updateOne(
        { _id: tenant._id, vacancy_lease_until: tenant.vacancy_lease_until },
        { $set: { vacancy_lease_until: lease_until } },
      )
      .exec();
    if (matchedCount === 0) {
      throw tenantBusy();
    }
    tenant.vacancy_lease_until = lease_until;
  }

  async releaseVacancies(tenant: Organization): Promise<void> {
    await this.organizations
      .updateOne(
        { _id: tenant._id, vacancy_lease_until: tenant.vacancy_lease_until },
        { $unset: { vacancy_lease_until: 1 } },
      )
      .exec();
  }

  /**
   * A write to one organization's record, then its cached copy dropped on every instance: also when
   * the write failed, for it may still have been applied.
   */
  private async changing<T>(id: Types.ObjectId | string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.cache.invalidate(tokenStateKey(id));
    }
  }

  /** Why `slug` cannot be taken, if it cannot: held by a tenant, or reserved after being given up. */
  private async slugConflict(
    slug: string,
    holderFilter: object = { claimed_slugs: slug },
  ): Promise<ConflictException | null> {
    const holder = await this.organizations.findOne(holderFilter, { vacated_slugs: 1 }).lean().exec();
    if (!holder) {
      return null;
    }
    const reserved = holder.vacated_slugs.find((vacancy) => vacancy.slug === slug);
    if (!reserved) {
      return new ConflictException(TENANT_EXISTS);
    }
    const retryAfterSeconds = Math.max(
      1,
      Math.ceil((reserved.until.getTime() - this.databaseClock.now().getTime()) / 1000),
    );
    return retryLater(NAME_RESERVED, retryAfterSeconds);
  }

  /**
   * A lease on freeing names is taken over only a reservation after it ended: an instance that
   * stalled just after its last check may still send a step, which must land before anyone else
   * can take the name.
   */
  private abandonedBefore(now: Date): Date {
    return new Date(now.getTime() - this.reservationMs);
  }

  private vacancy(tenant: Organization): VacatedSlug {
    const until = new Date(this.databaseClock.now().getTime() + this.reservationMs);
    return { slug: tenant.slug, entities: tenant.entities, until };
  }

  /** A new operation id, and a lease that ends by the database server's clock, never this instance's own. */
  private newOwnership(): Pick<PendingOperation, 'id' | 'lease_until'> {
    return { id: randomUUID(), lease_until: new Date(this.databaseClock.now().getTime() + this.leaseMs) };
  }
}
