import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Redis } from 'ioredis';
import { redisOptions } from '../common/redis-options';
import { Environment } from '../config/environment';

/**
 * The Redis of REDIS_URL, shared by every instance, for the rate-limit counters. While it is unset
 * or unreachable, each operation runs on this instance's memory instead: the limits then hold per
 * instance, and are never lifted altogether.
 */
@Injectable()
export class RedisFailover implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisFailover.name);
  private readonly client?: Redis;
  private onFallback = false;

  constructor(config: ConfigService<Environment, true>) {
    const url = config.get('REDIS_URL', { infer: true });
    if (!url) {
      return;
    }
    this.client = new Redis(url, redisOptions('org-service:throttle:'));
    // Failures surface through run(); ioredis would otherwise log each reconnection attempt.
    this.client.on('error', () => undefined);
  }

  async run<T>(shared: (redis: Redis) => Promise<T>, local: () => T | Promise<T>): Promise<T> {
    if (!this.client) {
      return local();
    }
    try {
      const result = await shared(this.client);
      if (this.onFallback) {
        this.onFallback = false;
        this.logger.log('Redis is back: rate limits are shared by all instances again');
      }
      return result;
    } catch (error) {
      if (!this.onFallback) {
        this.onFallback = true;
        this.logger.warn(`Redis unreachable (${(error as Error).message}): rate limits now hold per instance`);
      }
      return local();
    }
  }

  onApplicationShutdown(): void {
    this.client?.disconnect();
  }
}
