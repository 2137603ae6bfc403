import { ConflictException, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import { randomUUID } from 'node:crypto';
import { Model, Types } from 'mongoose';
import { AdminsService } from '../auth/admins.service';
import { isDuplicateKeyError } from '../common/mongo-errors';
import { Environment } from '../config/environment';
import { storageNameForSlug } from '../tenancy/storage-names';
import { TenantConnectionService } from '../tenancy/tenant-connection.service';
import { TenantState } from '../tenancy/tenant';
import { TenantStorageService } from '../tenancy/tenant-storage.service';
import { storageOf, tenantOf } from './organization-tenant';
import { OperationKind, Organization, PendingOperation } from './schemas/organization.schema';
import { TenantAdminEntity } from './schemas/tenant-admin.schema';

export interface NewOrganization {
  name: string;
  slug: string;
  email: string;
  passwordHash: string;
}

export const ORGANIZATION_EXISTS = 'Organization already exists';
export const ORGANIZATION_BUSY = 'Organization is being changed by another request; retry shortly';

/** An organization together with the operation this instance holds on it. */
type Claimed = Organization & { operation: PendingOperation };

/**
 * Create, rename and delete span several documents and collections, and run without transactions.
 * Each first marks the organization with its state and an operation under a lease; a crash leaves
 * that mark, and `resume` then rolls a create back or carries a rename or delete through, from any
 * step. Before every step that touches storage, the operation's owner checks it still holds it.
 */
@Injectable()
export class OrganizationLifecycleService {
  private readonly logger = new Logger(OrganizationLifecycleService.name);
  private readonly leaseMs: number;

  constructor(
    @InjectModel(Organization.name) private readonly organizations: Model<Organization>,
    private readonly admins: AdminsService,
    private readonly tenancy: TenantConnectionService,
    private readonly storage: TenantStorageService,
    config: ConfigService<Environment, true>,
  ) {
    this.leaseMs = config.get('OPERATION_LEASE_MS', { infer: true });
  }

  async create(input: NewOrganization): Promise<Organization> {
    const adminId = new Types.ObjectId();
    const claimed = await this.claimNew(input, adminId);
    try {
      return await this.withLease(claimed, async () => {
        await this.storage.dropLeftovers(storageNameForSlug(claimed.slug), () => this.confirmOwnership(claimed));
        await this.admins.createOrganizationAdmin({
          id: adminId,
          email: input.email,
          passwordHash: input.passwordHash,
          organizationId: claimed._id,
        });
        await this.confirmOwnership(claimed);
        const tenantAdmins = await this.tenancy.model(tenantOf(claimed), TenantAdminEntity);
        await tenantAdmins.create({ _id: adminId });
        return this.complete(claimed, TenantState.Creating, {});
      });
    } catch (error) {
      await this.rollBackCreate(claimed).catch((rollbackError: Error) =>
        this.logger.warn(`Create of ${claimed.slug} left for recovery: ${rollbackError.message}`),
      );
      throw error;
    }
  }

  /**
   * Renames an organization. `onClaimed` runs once the organization and its new name are held, so
   * changes made there (new credentials) are not made at all when the rename loses a race.
   */
  async rename(
    organization: Organization,
    target: { name: string; slug: string },
    onClaimed: () => Promise<void> = async () => undefined,
  ): Promise<Organization> {
    if (target.slug === organization.slug) {
      await onClaimed();
      return this.renameDisplayOnly(organization, target.name);
    }
    const claimed = await this.claimExisting(organization._id, TenantState.Renaming, {
      kind: OperationKind.Rename,
      target_name: target.name,
      target_slug: target.slug,
    });
    try {
      await onClaimed();
    } catch (error) {
      await this.abandonRename(claimed);
      throw error;
    }
    return this.finishRename(claimed);
  }

  async delete(organization: Organization): Promise<void> {
    const claimed = await this.claimExisting(organization._id, TenantState.Deleting, { kind: OperationKind.Delete });
    await this.finishDelete(claimed);
  }

  /** Finishes or undoes an operation that its instance did not complete. */
  async resume(organization: Claimed): Promise<void> {
    switch (organization.state) {
      case TenantState.Creating:
        return this.rollBackCreate(organization);
      case TenantState.Renaming:
        return void (await this.finishRename(organization));
      case TenantState.Deleting:
        return this.finishDelete(organization);
    }
  }

  /** A new operation id and lease: what recovery sets when it takes an operation over. */
  newOwnership(): Pick<PendingOperation, 'id' | 'lease_until'> {
    return { id: randomUUID(), lease_until: new Date(Date.now() + this.leaseMs) };
  }

  private async claimNew(input: NewOrganization, adminId: Types.ObjectId): Promise<Claimed> {
    try {
      const created = await this.organizations.create({
        organization_name: input.name,
        slug: input.slug,
        claimed_slugs: [input.slug],
        admin_id: adminId,
        state: TenantState.Creating,
        operation: { kind: OperationKind.Create, ...this.newOwnership() },
      });
      return created.toObject() as Claimed;
    } catch (error) {
      throw isDuplicateKeyError(error) ? new ConflictException(ORGANIZATION_EXISTS) : error;
    }
  }

  /**
   * Marks an active organization as busy. A rename also claims its target slug here, in the same
   * atomic update, so no create or other rename can take that name meanwhile.
   */
  private async claimExisting(
    id: Types.ObjectId,
    state: TenantState,
    operation: { kind: OperationKind; target_name?: string; target_slug?: string },
  ): Promise<Claimed> {
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
        throw new ConflictException(ORGANIZATION_BUSY);
      }
      return claimed as Claimed;
    } catch (error) {
      throw isDuplicateKeyError(error) ? new ConflictException(ORGANIZATION_EXISTS) : error;
    }
  }

  /** Same slug, so the same storage: only the display name changes, if nothing else changed meanwhile. */
  private async renameDisplayOnly(organization: Organization, name: string): Promise<Organization> {
    const renamed = await this.organizations
      .findOneAndUpdate(
        { _id: organization._id, state: TenantState.Active, slug: organization.slug },
        { $set: { organization_name: name } },
        { returnDocument: 'after' },
      )
      .lean()
      .exec();
    if (!renamed) {
      throw new ConflictException(ORGANIZATION_BUSY);
    }
    return renamed;
  }

  private async finishRename(organization: Claimed): Promise<Organization> {
    const { target_name: name, target_slug: slug } = organization.operation;
    if (!name || !slug) {
      throw new Error(`Rename of ${organization._id.toString()} has no target`);
    }
    await this.withLease(organization, () =>
      this.storage.move(storageOf(organization.slug, organization.entities), storageNameForSlug(slug), () =>
        this.confirmOwnership(organization),
      ),
    );
    return this.complete(organization, TenantState.Renaming, { organization_name: name, slug, claimed_slugs: [slug] });
  }

  /** Nothing has moved yet: the organization goes back to active and lets its target name go. */
  private async abandonRename(organization: Claimed): Promise<void> {
    await this.organizations
      .updateOne(
        { _id: organization._id, 'operation.id': organization.operation.id },
        {
          $set: { state: TenantState.Active },
          $unset: { operation: 1 },
          $pull: { claimed_slugs: organization.operation.target_slug },
        },
      )
      .exec();
  }

  /** Admins go first: from then on no token of the organization opens anything. */
  private async finishDelete(organization: Claimed): Promise<void> {
    await this.admins.deleteByOrganization(organization._id);
    await this.withLease(organization, () =>
      this.storage.drop(storageOf(organization.slug, organization.entities), () => this.confirmOwnership(organization)),
    );
    await this.organizations.deleteOne({ _id: organization._id, 'operation.id': organization.operation.id }).exec();
  }

  private async rollBackCreate(organization: Claimed): Promise<void> {
    await this.storage.drop(storageOf(organization.slug, organization.entities), () =>
      this.confirmOwnership(organization),
    );
    await this.admins.deleteByOrganization(organization._id);
    await this.organizations.deleteOne({ _id: organization._id, 'operation.id': organization.operation.id }).exec();
  }

  private async complete(
    organization: Claimed,
    from: TenantState,
    changes: Partial<Pick<Organization, 'organization_name' | 'slug' | 'claimed_slugs'>>,
  ): Promise<Organization> {
    const completed = await this.organizations
      .findOneAndUpdate(
        { _id: organization._id, state: from, 'operation.id': organization.operation.id },
        { $set: { ...changes, state: TenantState.Active }, $unset: { operation: 1 } },
        { returnDocument: 'after' },
      )
      .lean()
      .exec();
    if (!completed) {
      throw new ConflictException(ORGANIZATION_BUSY);
    }
    return completed;
  }

  /** Renews the lease, and fails if another instance has taken the operation over meanwhile. */
  private async confirmOwnership(organization: Claimed): Promise<void> {
    const renewed = await this.renewLease(organization);
    if (!renewed) {
      throw new ConflictException(ORGANIZATION_BUSY);
    }
  }

  private async renewLease(organization: Claimed): Promise<boolean> {
    const { matchedCount } = await this.organizations
      .updateOne(
        { _id: organization._id, 'operation.id': organization.operation.id },
        { $set: { 'operation.lease_until': this.newOwnership().lease_until } },
      )
      .exec();
    return matchedCount === 1;
  }

  /** Keeps the lease fresh while a long step runs, so that recovery leaves a live operation alone. */
  private async withLease<T>(organization: Claimed, step: () => Promise<T>): Promise<T> {
    const renew = setInterval(
      () => void this.renewLease(organization).catch(() => undefined),
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    try {
      return await step();
    } finally {
      clearInterval(renew);
    }
  }
}
