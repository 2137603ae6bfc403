import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Environment } from '../config/environment';
import { Organization } from '../tenancy/schemas/organization.schema';
import { TenantRegistry } from '../tenancy/tenant-registry.service';
import { OrganizationLifecycleService } from './organization-lifecycle.service';

/**
 * Finishes or undoes operations whose instance died: at start-up, then once per lease period.
 * An operation is taken over only after its lease has run out, and by one instance at a time.
 */
@Injectable()
export class OrganizationRecoveryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OrganizationRecoveryService.name);
  private readonly intervalMs: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly registry: TenantRegistry,
    private readonly lifecycle: OrganizationLifecycleService,
    config: ConfigService<Environment, true>,
  ) {
    this.intervalMs = config.get('OPERATION_LEASE_MS', { infer: true });
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
    } catch (error) {
      this.logger.warn(`Recovery sweep failed, will retry: ${(error as Error).message}`);
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
