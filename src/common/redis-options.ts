import { RedisOptions } from 'ioredis';

/** Redis must answer fast or not at all: a slow Redis would slow every request that waits on it. */
export const REDIS_TIMEOUT_MS = 500;

/** One connection to REDIS_URL's server: its failures are the caller's to handle, never queued or retried. */
export function redisOptions(keyPrefix?: string): RedisOptions {
  return {
    keyPrefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: REDIS_TIMEOUT_MS,
    commandTimeout: REDIS_TIMEOUT_MS,
    disconnectTimeout: REDIS_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  };
}
