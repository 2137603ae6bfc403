import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AdminsService } from '../admins/admins.service';
import { Environment } from '../config/environment';
import { Organization } from '../tenancy/schemas/organization.schema';
import { TenantRegistry } from '../tenancy/tenant-registry.service';
import { TenantStorageService } from '../tenancy/tenant-storage.service';
import { OrganizationLifecycleService } from './organization-lifecycle.service';

/**
 * Finishes or undoes operations whose instance died, frees reserved names whose reservation has run
 * out, and stamps documents written before stamps existed: at start-up, then every lease period or quarter reservation, whichever is shorter. An
 * operation is taken over only after its lease has run out, and by one instance at a time. Admins
 * left without an organization are looked for at start-up and once per lease period: only a create
 * that outlived its lease can leave one.
 */
/** How far back each search for admins without an organization reaches, at the least. */
const ORPHAN_OVERLAP_MS = 10 * 60_000;

@Injectable()
export class OrganizationRecoveryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OrganizationRecoveryService.name);
  private readonly intervalMs: number;
  private readonly leaseMs: number;
  /** When the last search for admins without an organization began; none yet at start-up. */
  private orphansSoughtAt?: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly registry: TenantRegistry,
    private readonly lifecycle: OrganizationLifecycleService,
    config: ConfigService<Environment, true>,
    private readonly admins: AdminsService,
    private readonly storage: TenantStorageService,
  ) {
    this.leaseMs = config.get('OPERATION_LEASE_MS', { infer: true });
    this.intervalMs = Math.min(this.leaseMs, registry.reservationMs / 4);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.sweep();
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Resolves when every expired operation found has been handled (or has failed again). */
  sweep(): Promise<void> {
    this.running ??= this.sweepOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweepOnce(): Promise<void> {
    try {
      const expired = await this.registry.findExpiredOperations();
      for (const organization of expired) {
        await this.takeOver(organization);
      }
      for (const organization of await this.registry.findDueVacancies()) {
        await this.lifecycle
          .freeVacancies(organization)
          .catch((error: Error) =>
            this.logger.warn(`Could not free the names ${organization.slug} gave up yet: ${error.message}`),
          );
      }
      await this.storage
        .settleAsidesOlderThan(this.leaseMs)
        .catch((error: Error) => this.logger.warn(`Could not settle the collections set aside yet: ${error.message}`));
      for (const organization of await this.registry.findUnstamped()) {
        await this.lifecycle
          .stampLegacyDocuments(organization)
          .catch((error: Error) =>
            this.logger.warn(`Could not stamp the documents of ${organization.slug} yet: ${error.message}`),
          );
      }
    } catch (error) {
      this.logger.warn(`Recovery sweep failed, will retry: ${(error as Error).message}`);
    }
    if (this.orphansSoughtAt === undefined || Date.now() - this.orphansSoughtAt >= this.leaseMs) {
      // The first search reads every admin; later ones only those created since the one before,
      // with room for a late insert and for a creator's clock that runs behind.
      const since =
        this.orphansSoughtAt === undefined
          ? undefined
          : new Date(this.orphansSoughtAt - Math.max(this.leaseMs, ORPHAN_OVERLAP_MS));
      this.orphansSoughtAt = Date.now();
      await this.removeAdminsWithoutOrganization(since).catch((error: Error) =>
        this.logger.warn(`Sweep of admins without an organization failed, will retry: ${error.message}`),
      );
    }
  }

  /**
   * Admins whose organization is gone: a create's own rollback removes its admin, but one that
   * stalled past its lease may insert it after recovery rolled the create back, and die before it
   * can take it back. Such an admin could never log in, and its email could never be used again.
   * Safe: a create writes its organization before its admin, and each batch of admins is read before
   * their organizations are looked up, so an admin whose organization is missing then has none for good.
   */
  private async removeAdminsWithoutOrganization(since?: Date): Promise<void> {
    for await (const organizationIds of this.admins.organizationIdsInBatches(since)) {
      const existing = await this.registry.findExistingIds(organizationIds);
      const missing = organizationIds.filter((id) => !existing.has(id.toString()));
      if (missing.length > 0) {
        const removed = await this.admins.deleteWithoutOrganization(missing);
        this.logger.log(`Removed ${removed} admin(s) left without an organization`);
      }
    }
  }

  private async takeOver(organization: Organization): Promise<void> {
    const taken = await this.registry.takeOver(organization);
    if (!taken) {
      return;
    }
    this.logger.log(`Resuming ${taken.operation.kind} of organization ${taken.slug}`);
    await this.lifecycle
      .resume(taken)
      .catch((error: Error) =>
        this.logger.warn(`Could not resume ${taken.operation.kind} of ${taken.slug} yet: ${error.message}`),
      );
  }
}
