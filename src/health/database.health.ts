import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectConnection } from '@nestjs/mongoose';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Connection } from 'mongoose';
import { Environment } from '../config/environment';

/**
 * A real round trip to the server. Terminus' own Mongoose indicator only reads the connection's
 * state, which stays "connected" for seconds after the server has gone.
 *
 * The ping has DB_TIMEOUT_MS, as every operation has (see database/operation-deadline.ts); it carries
 * its own signal as well, so readiness stays bounded by it on its own: down as soon as it passes,
 * whether the database is slow, silent or resetting.
 */
@Injectable()
export class DatabaseHealthIndicator {
  private readonly timeoutMs: number;

  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly indicators: HealthIndicatorService,
    config: ConfigService<Environment, true>,
  ) {
    this.timeoutMs = config.get('DB_TIMEOUT_MS', { infer: true });
  }

  async ping(key: string) {
    const indicator = this.indicators.check(key);
    try {
      await this.connection
        .getClient()
        .db('admin')
        .command({ ping: 1 }, { signal: AbortSignal.timeout(this.timeoutMs) });
      return indicator.up();
    } catch {
      return indicator.down();
    }
  }
}
