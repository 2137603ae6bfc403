import { ConflictException, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { AdminsService } from '../auth/admins.service';
import { isDuplicateKeyError } from '../common/mongo-errors';
import { Environment } from '../config/environment';
import { storageNameForSlug } from '../tenancy/storage-names';
import { TenantConnectionService } from '../tenancy/tenant-connection.service';
import { TenantState } from '../tenancy/tenant';
import { TenantStorageService } from '../tenancy/tenant-storage.service';
import { storageOf, tenantOf } from './organization-tenant';
import { OperationKind, Organization } from './schemas/organization.schema';
import { TenantAdminEntity } from './schemas/tenant-admin.schema';

export interface NewOrganization {
  name: string;
  slug: string;
  email: string;
  passwordHash: string;
}

export const ORGANIZATION_EXISTS = 'Organization already exists';
export const ORGANIZATION_BUSY = 'Organization is being changed by another request; retry shortly';

/**
 * Create, rename and delete span several documents and collections, and run without transactions.
 * Each first marks the organization with its state and operation; a crash leaves that mark, and
 * `resume` then rolls a create back or carries a rename or delete through, from any step.
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
    const organization = await this.claimNew(input, adminId);
    try {
      await this.admins.createOrganizationAdmin({
        id: adminId,
        email: input.email,
        passwordHash: input.passwordHash,
        organizationId: organization._id,
      });
      const tenantAdmins = await this.tenancy.model(tenantOf(organization), TenantAdminEntity);
      await tenantAdmins.create({ _id: adminId });
      return await this.complete(organization._id, TenantState.Creating, {});
    } catch (error) {
      await this.rollBackCreate(organization).catch((rollbackError: Error) =>
        this.logger.warn(`Create of ${organization.slug} left for recovery: ${rollbackError.message}`),
      );
      throw error;
    }
  }

  async rename(organization: Organization, target: { name: string; slug: string }): Promise<Organization> {
    if (target.slug === organization.slug) {
      return this.complete(organization._id, TenantState.Active, { organization_name: target.name });
    }
    const claimed = await this.claimExisting(organization._id, TenantState.Renaming, {
      kind: OperationKind.Rename,
      target_name: target.name,
      target_slug: target.slug,
    });
    return this.finishRename(claimed);
  }

  async delete(organization: Organization): Promise<void> {
    const claimed = await this.claimExisting(organization._id, TenantState.Deleting, { kind: OperationKind.Delete });
    await this.finishDelete(claimed);
  }

  /** Finishes or undoes an operation that its instance did not complete. */
  async resume(organization: Organization): Promise<void> {
    switch (organization.state) {
      case TenantState.Creating:
        return this.rollBackCreate(organization);
      case TenantState.Renaming:
        return void (await this.finishRename(organization));
      case TenantState.Deleting:
        return this.finishDelete(organization);
    }
  }

  leaseDeadline(): Date {
    return new Date(Date.now() + this.leaseMs);
  }

  private async claimNew(input: NewOrganization, adminId: Types.ObjectId): Promise<Organization> {
    try {
      const created = await this.organizations.create({
        organization_name: input.name,
        slug: input.slug,
        claimed_slugs: [input.slug],
        admin_id: adminId,
        state: TenantState.Creating,
        operation: { kind: OperationKind.Create, lease_until: this.leaseDeadline() },
      });
      return created.toObject();
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
  ): Promise<Organization> {
    try {
      const claimed = await this.organizations
        .findOneAndUpdate(
          { _id: id, state: TenantState.Active },
          {
            $set: { state, operation: { ...operation, lease_until: this.leaseDeadline() } },
            ...(operation.target_slug ? { $push: { claimed_slugs: operation.target_slug } } : {}),
          },
          { returnDocument: 'after' },
        )
        .lean()
        .exec();
      if (!claimed) {
        throw new ConflictException(ORGANIZATION_BUSY);
      }
      return claimed;
    } catch (error) {
      throw isDuplicateKeyError(error) ? new ConflictException(ORGANIZATION_EXISTS) : error;
    }
  }

  private async finishRename(organization: Organization): Promise<Organization> {
    const { target_name: name, target_slug: slug } = organization.operation ?? {};
    if (!name || !slug) {
      throw new Error(`Rename of ${organization._id.toString()} has no target`);
    }
    await this.withLease(organization._id, () =>
      this.storage.move(storageOf(organization.slug, organization.entities), storageNameForSlug(slug)),
    );
    return this.complete(organization._id, TenantState.Renaming, {
      organization_name: name,
      slug,
      claimed_slugs: [slug],
    });
  }

  /** Admins go first: from then on no token of the organization opens anything. */
  private async finishDelete(organization: Organization): Promise<void> {
    await this.admins.deleteByOrganization(organization._id);
    await this.withLease(organization._id, () =>
      this.storage.drop(storageOf(organization.slug, organization.entities)),
    );
    await this.organizations.deleteOne({ _id: organization._id, state: TenantState.Deleting }).exec();
  }

  private async rollBackCreate(organization: Organization): Promise<void> {
    await this.storage.drop(storageOf(organization.slug, organization.entities));
    await this.admins.deleteByOrganization(organization._id);
    await this.organizations.deleteOne({ _id: organization._id, state: TenantState.Creating }).exec();
  }

  private async complete(
    id: Types.ObjectId,
    from: TenantState,
    changes: Partial<Pick<Organization, 'organization_name' | 'slug' | 'claimed_slugs'>>,
  ): Promise<Organization> {
    const completed = await this.organizations
      .findOneAndUpdate(
        { _id: id, state: from },
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

  /** Keeps the operation's lease fresh while a long step runs, so recovery leaves it alone. */
  private async withLease<T>(id: Types.ObjectId, step: () => Promise<T>): Promise<T> {
    const renew = setInterval(() => {
      this.organizations
        .updateOne({ _id: id }, { $set: { 'operation.lease_until': this.leaseDeadline() } })
        .exec()
        .catch(() => undefined);
    }, Math.max(50, Math.floor(this.leaseMs / 3)));
    try {
      return await step();
    } finally {
      clearInterval(renew);
    }
  }
}
