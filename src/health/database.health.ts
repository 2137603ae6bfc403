import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Connection } from 'mongoose';

const PING_TIMEOUT_MS = 2000;

/**
 * A real round trip to the server. Terminus' own Mongoose indicator only reads the connection's
 * state, which stays "connected" for seconds after the server has gone.
 */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async ping(key: string) {
    const indicator = this.indicators.check(key);
    try {
      await this.connection.getClient().db('admin').command({ ping: 1 }, { timeoutMS: PING_TIMEOUT_MS });
      return indicator.up();
    } catch {
      return indicator.down();
    }
  }
}
