import { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * One round trip, atomic on the server: count the hit in a window of `ttl` ms and, past `limit`,
 * block the key for `blockDuration` ms. Returns hits, ms left in the window, blocked, ms left blocked.
 */
const INCREMENT_SCRIPT = `
local hits_key, block_key = KEYS[1], KEYS[2]
local ttl, limit, block_duration = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local block_left = redis.call('PTTL', block_key)
if block_left > 0 then
  return { tonumber(redis.call('GET', hits_key) or limit + 1), math.max(redis.call('PTTL', hits_key), 0), 1, block_left }
end
local hits = redis.call('INCR', hits_key)
if hits == 1 then redis.call('PEXPIRE', hits_key, ttl) end
local window_left = redis.call('PTTL', hits_key)
if hits > limit then
  redis.call('SET', block_key, 1, 'PX', block_duration)
  return { hits, window_left, 1, block_duration }
end
return { hits, window_left, 0, 0 }
`;

/** @nestjs/throttler's storage contract over Redis, shared by every instance. */
export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(private readonly redis: Redis) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const base = `${throttlerName}:${key}`;
    const [totalHits, windowLeftMs, blocked, blockLeftMs] = (await this.redis.eval(
      INCREMENT_SCRIPT,
      2,
      `${base}:hits`,
      `${base}:blocked`,
      ttl,
      limit,
      blockDuration,
    )) as [number, number, number, number];
    return {
      totalHits,
      timeToExpire: Math.ceil(windowLeftMs / 1000),
      isBlocked: blocked === 1,
      timeToBlockExpire: Math.ceil(blockLeftMs / 1000),
    };
  }
}
