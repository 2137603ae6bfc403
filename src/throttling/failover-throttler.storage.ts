import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import { Redis } from 'ioredis';
import { Environment } from '../config/environment';
import { RedisThrottlerStorage } from './redis-throttler.storage';

/** Redis must answer fast or not at all: a slow limiter would slow every login. */
const REDIS_TIMEOUT_MS = 500;

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Rate-limit counters in Redis, shared by every instance, when REDIS_URL is set. While Redis is
 * unreachable the counters fall back to this instance's memory: the limit then holds per instance,
 * and is never lifted altogether.
 */
@Injectable()
export class FailoverThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly logger = new Logger(FailoverThrottlerStorage.name);
  private readonly memory = new ThrottlerStorageService();
  private readonly client?: Redis;
  private readonly redis?: RedisThrottlerStorage;
  private onFallback = false;

  constructor(config: ConfigService<Environment, true>) {
    const url = config.get('REDIS_URL', { infer: true });
    if (!url) {
      return;
    }
    this.client = new Redis(url, {
      keyPrefix: 'org-service:throttle:',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: REDIS_TIMEOUT_MS,
      commandTimeout: REDIS_TIMEOUT_MS,
      disconnectTimeout: REDIS_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    // Failures surface through increment(); ioredis would otherwise log each reconnection attempt.
    this.client.on('error', () => undefined);
    this.redis = new RedisThrottlerStorage(this.client);
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    if (!this.redis) {
      return this.memory.increment(key, ttl, limit, blockDuration, throttlerName);
    }
    try {
      const record = await this.redis.increment(key, ttl, limit, blockDuration, throttlerName);
      if (this.onFallback) {
        this.onFallback = false;
        this.logger.log('Redis is back: rate limits are shared by all instances again');
      }
      return record;
    } catch (error) {
      if (!this.onFallback) {
        this.onFallback = true;
        this.logger.warn(`Redis unreachable (${(error as Error).message}): rate limits now hold per instance`);
      }
      return this.memory.increment(key, ttl, limit, blockDuration, throttlerName);
    }
  }

  onApplicationShutdown(): void {
    this.memory.onApplicationShutdown();
    this.client?.disconnect();
  }
}
