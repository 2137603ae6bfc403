import { ConflictException, Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import { randomUUID } from 'node:crypto';
import { Model, Types } from 'mongoose';
import { isDuplicateKeyError } from '../common/mongo-errors';
import { Environment } from '../config/environment';
import { OperationKind, Organization, PendingOperation } from './schemas/organization.schema';
import { TENANT_BUSY, TENANT_EXISTS, TenantState } from './tenant';

/** An organization together with the operation an instance holds on it. */
export type ClaimedTenant = Organization & { operation: PendingOperation };

/** What changes when an operation completes. */
type TenantChanges = Partial<Pick<Organization, 'organization_name' | 'slug' | 'claimed_slugs'>>;

/** A tenant being created is not visible yet; one being renamed or deleted still is. */
const VISIBLE = { state: { $ne: TenantState.Creating } };
/** Tokens of a tenant that is being created or deleted no longer open anything. */
const TOKEN_USABLE = { state: { $in: [TenantState.Active, TenantState.Renaming] } };

/**
 * The registry of tenants: the one reader and writer of the organizations collection, and the one
 * place that knows its state rules. A multi-step operation (create, rename, delete) holds a tenant
 * through `claim*` under a lease; whoever renews or completes it proves it still holds the claim by
 * the operation's id, which changes when another instance takes an expired operation over.
 */
@Injectable()
export class TenantRegistry implements OnModuleInit {
  private readonly leaseMs: number;

  constructor(
    @InjectModel(Organization.name) private readonly organizations: Model<Organization>,
    config: ConfigService<Environment, true>,
  ) {
    this.leaseMs = config.get('OPERATION_LEASE_MS', { infer: true });
  }

  /** The unique slug indexes must exist before two creates can race. */
  async onModuleInit(): Promise<void> {
    await this.organizations.init();
  }

  async isSlugClaimed(slug: string): Promise<boolean> {
    return (await this.organizations.exists({ claimed_slugs: slug }).exec()) !== null;
  }

  findVisibleBySlug(slug: string): Promise<Organization | null> {
    return this.organizations
      .findOne({ slug, ...VISIBLE })
      .lean()
      .exec();
  }

  /** The tenant a token names, while its tokens still open anything. */
  findForToken(id: Types.ObjectId | string): Promise<Organization | null> {
    return this.organizations
      .findOne({ _id: id, ...TOKEN_USABLE })
      .lean()
      .exec();
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
        operation: { kind: OperationKind.Create, ...this.newOwnership() },
      });
      return created.toObject() as ClaimedTenant;
    } catch (error) {
      throw isDuplicateKeyError(error) ? new ConflictException(TENANT_EXISTS) : error;
    }
  }

  /**
   * Marks an active tenant as busy. A rename also claims its target slug here, in the same atomic
   * update, so no create or other rename can take that name meanwhile.
   */
  async claimExisting(
    id: Types.ObjectId,
    state: TenantState.Renaming | TenantState.Deleting,
    operation: { kind: OperationKind; target_name?: string; target_slug?: string },
  ): Promise<ClaimedTenant> {
    try {
      const claimed = await this.organizations
        .findOneAndUpdate(
          { _id: id, state: TenantState.Active },
          {
            $set: { state, operation: { ...operation, ...this.newOwnership() } },
            ...(operation.target_slug ? { $push: { claimed_slugs: operation.target_slug } } : {}),
          },
          { returnDocument: 'after' },
        )
        .lean()
        .exec();
      if (!claimed) {
        throw new ConflictException(TENANT_BUSY);
      }
      return claimed as ClaimedTenant;
    } catch (error) {
      throw isDuplicateKeyError(error) ? new ConflictException(TENANT_EXISTS) : error;
    }
  }

  /** Same slug, so the same storage: only the display name changes, if nothing else changed meanwhile. */
  async renameDisplayOnly(tenant: Organization, name: string): Promise<Organization> {
    const renamed = await this.organizations
      .findOneAndUpdate(
        { _id: tenant._id, state: TenantState.Active, slug: tenant.slug },
        { $set: { organization_name: name } },
        { returnDocument: 'after' },
      )
      .lean()
      .exec();
    if (!renamed) {
      throw new ConflictException(TENANT_BUSY);
    }
    return renamed;
  }

  /** Ends the operation: the tenant is active again, with `changes` applied. */
  async complete(tenant: ClaimedTenant, from: TenantState, changes: TenantChanges): Promise<Organization> {
    const completed = await this.organizations
      .findOneAndUpdate(
        { _id: tenant._id, state: from, 'operation.id': tenant.operation.id },
        { $set: { ...changes, state: TenantState.Active }, $unset: { operation: 1 } },
        { returnDocument: 'after' },
      )
      .lean()
      .exec();
    if (!completed) {
      throw new ConflictException(TENANT_BUSY);
    }
    return completed;
  }

  /** A rename that has moved nothing yet: the tenant goes back to active and lets its target name go. */
  async abandonRename(tenant: ClaimedTenant): Promise<void> {
    await this.organizations
      .updateOne(
        { _id: tenant._id, 'operation.id': tenant.operation.id },
        {
          $set: { state: TenantState.Active },
          $unset: { operation: 1 },
          $pull: { claimed_slugs: tenant.operation.target_slug },
        },
      )
      .exec();
  }

  /** The last step of a delete or of a rolled-back create. */
  async remove(tenant: ClaimedTenant): Promise<void> {
    await this.organizations.deleteOne({ _id: tenant._id, 'operation.id': tenant.operation.id }).exec();
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
      throw new ConflictException(TENANT_BUSY);
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
      .find({ state: { $ne: TenantState.Active }, 'operation.lease_until': { $lt: new Date() } })
      .lean()
      .exec();
  }

  /** Takes an expired operation with a new id, so that its stalled owner, should it wake, stops at its next step. */
  async takeOver(tenant: Organization): Promise<ClaimedTenant | null> {
    const { id, lease_until } = this.newOwnership();
    const taken = await this.organizations
      .findOneAndUpdate(
        { _id: tenant._id, 'operation.id': tenant.operation?.id, 'operation.lease_until': { $lt: new Date() } },
        { $set: { 'operation.id': id, 'operation.lease_until': lease_until } },
        { returnDocument: 'after' },
      )
      .lean()
      .exec();
    return taken?.operation ? (taken as ClaimedTenant) : null;
  }

  /** Recorded before an entity's first write, so that rename and delete always find its collection. */
  async recordEntity(tenantId: string, entity: string): Promise<void> {
    const { matchedCount } = await this.organizations
      .updateOne({ _id: new Types.ObjectId(tenantId), state: TenantState.Active }, { $addToSet: { entities: entity } })
      .exec();
    if (matchedCount === 0) {
      throw new ConflictException(TENANT_BUSY);
    }
  }

  private newOwnership(): Pick<PendingOperation, 'id' | 'lease_until'> {
    return { id: randomUUID(), lease_until: new Date(Date.now() + this.leaseMs) };
  }
}
