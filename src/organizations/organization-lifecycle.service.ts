import { Injectable, Logger } from '@nestjs/common';
import { Types } from 'mongoose';
import { AdminsService, CredentialChange } from '../auth/admins.service';
import { OperationKind, Organization } from '../tenancy/schemas/organization.schema';
import { storageOf, tenantOf } from '../tenancy/organization-tenant';
import { storageNameForSlug } from '../tenancy/storage-names';
import { TenantState } from '../tenancy/tenant';
import { TenantConnectionService } from '../tenancy/tenant-connection.service';
import { ClaimedTenant, TenantRegistry } from '../tenancy/tenant-registry.service';
import { TenantStorageService } from '../tenancy/tenant-storage.service';
import { TenantAdminEntity } from './schemas/tenant-admin.schema';

interface NewOrganization {
  name: string;
  slug: string;
  email: string;
  passwordHash: string;
}

/** What an update changes: a new name, new admin credentials, or both. */
interface OrganizationChange {
  rename?: { name: string; slug: string };
  credentials?: CredentialChange;
}

/**
 * Create, rename and delete span several documents and collections, and run without transactions.
 * Each first claims the organization in the registry with its state and an operation under a lease;
 * a crash leaves that claim, and `resume` then rolls a create back or carries a rename or delete
 * through, from any step. Before every step that touches storage, the operation's owner checks it
 * still holds the claim.
 */
@Injectable()
export class OrganizationLifecycleService {
  private readonly logger = new Logger(OrganizationLifecycleService.name);

  constructor(
    private readonly registry: TenantRegistry,
    private readonly admins: AdminsService,
    private readonly tenancy: TenantConnectionService,
    private readonly storage: TenantStorageService,
  ) {}

  async create(input: NewOrganization): Promise<Organization> {
    const adminId = new Types.ObjectId();
    const claimed = await this.registry.claimNew({ name: input.name, slug: input.slug, adminId });
    const confirmOwnership = () => this.registry.confirmOwnership(claimed);
    try {
      return await this.registry.withLease(claimed, async () => {
        await this.storage.dropLeftovers(storageNameForSlug(claimed.slug), confirmOwnership);
        await this.admins.createOrganizationAdmin({
          id: adminId,
          email: input.email,
          passwordHash: input.passwordHash,
          organizationId: claimed._id,
        });
        await confirmOwnership();
        const tenantAdmins = await this.tenancy.model(tenantOf(claimed), TenantAdminEntity);
        await tenantAdmins.create({ _id: adminId });
        return this.registry.complete(claimed, TenantState.Creating, {});
      });
    } catch (error) {
      await this.rollBackCreate(claimed).catch((rollbackError: Error) =>
        this.logger.warn(`Create of ${claimed.slug} left for recovery: ${rollbackError.message}`),
      );
      throw error;
    }
  }

  /**
   * Renames the organization and changes its admin's credentials. The credentials change only once
   * the organization and its new name are held, so nothing changes when the rename loses a race.
   */
  async update(organization: Organization, change: OrganizationChange): Promise<Organization> {
    const { rename, credentials } = change;
    if (!rename || rename.slug === organization.slug) {
      await this.changeCredentials(organization, credentials);
      return rename ? this.registry.renameDisplayOnly(organization, rename.name) : organization;
    }
    const claimed = await this.registry.claimExisting(organization._id, TenantState.Renaming, {
      kind: OperationKind.Rename,
      target_name: rename.name,
      target_slug: rename.slug,
    });
    try {
      await this.changeCredentials(organization, credentials);
    } catch (error) {
      await this.registry.abandonRename(claimed);
      throw error;
    }
    return this.finishRename(claimed);
  }

  async delete(organization: Organization): Promise<void> {
    const claimed = await this.registry.claimExisting(organization._id, TenantState.Deleting, {
      kind: OperationKind.Delete,
    });
    await this.finishDelete(claimed);
  }

  /** Finishes or undoes an operation that its instance did not complete. */
  async resume(organization: ClaimedTenant): Promise<void> {
    switch (organization.state) {
      case TenantState.Creating:
        return this.rollBackCreate(organization);
      case TenantState.Renaming:
        return void (await this.finishRename(organization));
      case TenantState.Deleting:
        return this.finishDelete(organization);
    }
  }

  private async changeCredentials(organization: Organization, credentials: CredentialChange | undefined) {
    if (credentials?.email !== undefined || credentials?.passwordHash !== undefined) {
      await this.admins.changeCredentials(organization.admin_id, credentials);
    }
  }

  private async finishRename(organization: ClaimedTenant): Promise<Organization> {
    const { target_name: name, target_slug: slug } = organization.operation;
    if (!name || !slug) {
      throw new Error(`Rename of ${organization._id.toString()} has no target`);
    }
    await this.registry.withLease(organization, () =>
      this.storage.move(storageOf(organization.slug, organization.entities), storageNameForSlug(slug), () =>
        this.registry.confirmOwnership(organization),
      ),
    );
    return this.registry.complete(organization, TenantState.Renaming, {
      organization_name: name,
      slug,
      claimed_slugs: [slug],
    });
  }

  /** Admins go first: from then on no token of the organization opens anything. */
  private async finishDelete(organization: ClaimedTenant): Promise<void> {
    await this.admins.deleteByOrganization(organization._id);
    await this.registry.withLease(organization, () =>
      this.storage.drop(storageOf(organization.slug, organization.entities), () =>
        this.registry.confirmOwnership(organization),
      ),
    );
    await this.registry.remove(organization);
  }

  private async rollBackCreate(organization: ClaimedTenant): Promise<void> {
    await this.storage.drop(storageOf(organization.slug, organization.entities), () =>
      this.registry.confirmOwnership(organization),
    );
    await this.admins.deleteByOrganization(organization._id);
    await this.registry.remove(organization);
  }
}
