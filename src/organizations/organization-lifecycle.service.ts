import { Injectable, Logger } from '@nestjs/common';
import { Types } from 'mongoose';
import { AdminsService, CredentialChange } from '../admins/admins.service';
import { isDatabaseUnavailableError } from '../common/mongo-errors';
import { OperationKind, Organization, PendingCredentials } from '../tenancy/schemas/organization.schema';
import { storageOf, tenantOf } from '../tenancy/organization-tenant';
import { storageNameForSlug } from '../tenancy/storage-names';
import { tenantBusy, TenantState } from '../tenancy/tenant';
import { TenantConnectionService } from '../tenancy/tenant-connection.service';
import { ClaimedTenant, TenantRegistry } from '../tenancy/tenant-registry.service';
import { TenantStorageService } from '../tenancy/tenant-storage.service';
import { TenantAdminEntity } from './schemas/tenant-admin.schema';

function pendingCredentials({ email, passwordHash, tokenVersion }: CredentialChange): PendingCredentials {
  return { email, password_hash: passwordHash, token_version: tokenVersion };
}

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

  /** Every step checks that the create still owns its operation before it writes. */
  async create(input: NewOrganization): Promise<Organization> {
    const adminId = new Types.ObjectId();
    const claimed = await this.registry.claimNew({ name: input.name, slug: input.slug, adminId });
    const confirmOwnership = () => this.registry.confirmOwnership(claimed);
    let removeTenantAdmin: (() => Promise<unknown>) | undefined;
    try {
      return await this.registry.withLease(claimed, async () => {
        await this.storage.dropLeftovers(storageNameForSlug(claimed.slug), confirmOwnership);
        await confirmOwnership();
        await this.admins.createOrganizationAdmin({
          id: adminId,
          email: input.email,
          passwordHash: input.passwordHash,
          organizationId: claimed._id,
        });
        await confirmOwnership();
        const tenantAdmins = await this.tenancy.model(tenantOf(claimed), TenantAdminEntity);
        removeTenantAdmin = () => tenantAdmins.deleteOne({ _id: adminId }).exec();
        await tenantAdmins.create({ _id: adminId });
        return this.registry.complete(claimed, TenantState.Creating);
      });
    } catch (error) {
      const rollBack = this.rollBackCreate(claimed, removeTenantAdmin).catch((rollbackError: Error) =>
        this.logger.warn(`Create of ${claimed.slug} left for recovery: ${rollbackError.message}`),
      );
      // While the database is away the rollback would keep the answer waiting as long again, for
      // nothing: it goes on without the request, and recovery finishes what it cannot.
      if (!isDatabaseUnavailableError(error)) {
        await rollBack;
      }
      throw error;
    }
  }

  /**
   * Renames the organization and changes its admin's credentials. The credentials change only once
   * the organization and its new name are held, so nothing changes when the rename loses a race.
   * That holds for a new display name of the same slug too: with new credentials it claims the
   * organization as any rename does (its own slug as the target), so a busy organization is a 409
   * before any credential changes, and `finishRename` then sets the name without moving storage.
   * Without new credentials it is one conditional write (`renameDisplayOnly`).
   */
  async update(organization: Organization, change: OrganizationChange): Promise<Organization> {
    const { rename, credentials } = change;
    if (!rename) {
      await this.changeCredentials(organization, credentials);
      return organization;
    }
    if (rename.slug === organization.slug && !this.changesCredentials(credentials)) {
      return this.registry.renameDisplayOnly(organization, rename.name);
    }
    const claimed = await this.registry.claimExisting(organization._id, TenantState.Renaming, {
      kind: OperationKind.Rename,
      target_name: rename.name,
      target_slug: rename.slug,
      ...(credentials && this.changesCredentials(credentials) ? { credentials: pendingCredentials(credentials) } : {}),
    });
    try {
      // Renamed by another request since it was read: this request's view of its name is stale.
      if (claimed.slug !== organization.slug) {
        throw tenantBusy();
      }
      // Not if recovery has taken the rename over meanwhile: it applies them itself, once.
      await this.registry.confirmOwnership(claimed);
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
        // Its stalled owner may still write late under the name: the name is reserved, as after a delete.
        return this.rollBackCreate(organization, undefined, true);
      case TenantState.Renaming:
        await this.applyPendingCredentials(organization);
        return void (await this.finishRename(organization));
      case TenantState.Deleting:
        return this.finishDelete(organization);
    }
  }

  private async changeCredentials(organization: Organization, credentials: CredentialChange | undefined) {
    if (credentials && this.changesCredentials(credentials)) {
      await this.admins.changeCredentialsNow(organization.admin_id, credentials);
    }
  }

  /**
   * A resumed rename's credentials, unless its request applied them already (or anything else changed
   * them since): the token version fences the request, should it still be running late.
   */
  private async applyPendingCredentials(organization: ClaimedTenant): Promise<void> {
    const pending = organization.operation.credentials;
    if (pending) {
      await this.admins.changeCredentials(organization.admin_id, {
        email: pending.email,
        passwordHash: pending.password_hash,
        tokenVersion: pending.token_version,
      });
    }
  }

  private changesCredentials(credentials: CredentialChange | undefined): boolean {
    return credentials?.email !== undefined || credentials?.passwordHash !== undefined;
  }

  private async finishRename(organization: ClaimedTenant): Promise<Organization> {
    const { target_name: name, target_slug: slug } = organization.operation;
    if (!name || !slug) {
      throw new Error(`Rename of ${organization._id.toString()} has no target`);
    }
    // The same slug (a new display name only) is the same storage: nothing to move.
    if (slug !== organization.slug) {
      this.tenancy.retire(organization._id.toString(), organization.storage_generation, 'moved');
      const guard = () => this.registry.confirmOwnership(organization);
      await this.registry.withLease(organization, async () => {
        // Emptied once, before anything moves there: a resumed rename must not drop what it moved.
        if (!organization.operation.target_emptied) {
          await this.storage.dropLeftovers(storageNameForSlug(slug), guard);
          await this.registry.markTargetEmptied(organization);
        }
        await this.storage.move(
          storageOf(organization.slug, organization.entities),
          organization._id.toString(),
          guard,
        );
      });
    }
    return this.registry.completeRename(organization);
  }

  /**
   * Admins go first: from then on no token of the organization opens anything. The record stays as a
   * tombstone that keeps its names reserved (see `freeVacancies`).
   */
  private async finishDelete(organization: ClaimedTenant): Promise<void> {
    this.tenancy.retire(organization._id.toString(), organization.storage_generation, 'gone');
    await this.admins.deleteByOrganization(organization._id);
    await this.registry.withLease(organization, () =>
      this.storage.drop(storageOf(organization.slug, organization.entities), organization._id.toString(), () =>
        this.registry.confirmOwnership(organization),
      ),
    );
    await this.registry.entomb(organization);
  }

  /**
   * Frees the names the organization gave up whose reservation has run out: whatever landed under
   * one late is carried into the organization's current storage (after a rename) or dropped (after
   * its deletion), then the name is free. An organization busy with a rename or delete waits.
   */
  async freeVacancies(organization: Organization): Promise<void> {
    const taken = await this.registry.takeVacancies(organization);
    if (!taken) {
      return;
    }
    try {
      for (const vacancy of taken.vacated_slugs.filter((candidate) => this.registry.isDue(candidate))) {
        // A late write's entity was recorded before it: on the vacancy, or on the record during the rename.
        const vacated = storageOf(vacancy.slug, [...vacancy.entities, ...taken.entities]);
        const stillHeld = () => this.registry.confirmVacancies(taken);
        if (taken.state === TenantState.Deleted) {
          await this.storage.drop(vacated, taken._id.toString(), stillHeld);
        } else if (taken.state === TenantState.Active) {
          await this.storage.move(vacated, taken._id.toString(), stillHeld);
        } else {
          continue;
        }
        await this.registry.freeVacancy(taken, vacancy.slug);
      }
    } finally {
      await this.registry.releaseVacancies(taken);
    }
  }

  /** Stamps an organization's documents from before stamps existed, and records that it is done. */
  async stampLegacyDocuments(organization: Organization): Promise<void> {
    await this.storage.stampLegacyDocuments(
      storageOf(organization.slug, organization.entities),
      organization._id.toString(),
    );
    await this.registry.markStamped(organization);
  }

  /**
   * Undoes a create: its storage, its admin and its record, while the operation is this instance's.
   * Once another instance has taken it over, that one rolls the create back, perhaps before this one
   * wrote its last steps late; so this one still takes back, by id, what it wrote itself: its admin
   * (its id chosen by the create and recorded as the organization's admin_id) and, from the create
   * itself, the admin's entry in the storage. Their ids are this create's alone.
   */
  private async rollBackCreate(
    organization: ClaimedTenant,
    removeOwnTenantAdmin?: () => Promise<unknown>,
    reserveName = false,
  ): Promise<void> {
    const removeOwnAdmin = () => this.admins.deleteOrganizationAdmin(organization.admin_id, organization._id);
    try {
      await this.storage.drop(storageOf(organization.slug, organization.entities), organization._id.toString(), () =>
        this.registry.confirmOwnership(organization),
      );
    } catch (error) {
      // Still its own (the database failed): left whole for recovery, which rolls it back with its admin.
      if (!(await this.registry.renewLease(organization).catch(() => true))) {
        await removeOwnAdmin();
        await removeOwnTenantAdmin?.();
      }
      throw error;
    }
    await removeOwnAdmin();
    await (reserveName ? this.registry.entomb(organization) : this.registry.remove(organization));
  }
}
