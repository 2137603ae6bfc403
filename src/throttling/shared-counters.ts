import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { RedisFailover } from './redis-failover';

/** A counter's value and how long it has left (0 when it does not exist). */
export interface Counter {
  value: number;
  ttlMs: number;
}

/** Counting starts the window; INCR and PEXPIRE in one round trip, atomic on the server. */
const INCREMENT_SCRIPT = `
local value = redis.call('INCR', KEYS[1])
if value == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return value
`;
/** Takes one back, only from a counter that still exists (a DECR would make one that never expires). */
const DECREMENT_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return 0
`;
/** Bounds the memory an attacker can fill with counters of made-up emails while Redis is away. */
const MAX_LOCAL_COUNTERS = 100_000;

/** Expiring counters, shared by every instance through Redis when there is one (see RedisFailover). */
@Injectable()
export class SharedCounters {
  private readonly local = new LRUCache<string, number>({ max: MAX_LOCAL_COUNTERS });

  constructor(private readonly redis: RedisFailover) {}

  /** Adds one; a new counter lives `ttlMs`. */
  increment(key: string, ttlMs: number): Promise<number> {
    return this.redis.run(
      async (client) => Number(await client.eval(INCREMENT_SCRIPT, 1, key, ttlMs)),
      () => {
        const value = (this.local.get(key) ?? 0) + 1;
        this.local.set(key, value, value === 1 ? { ttl: ttlMs } : { noUpdateTTL: true });
        return value;
      },
    );
  }

  decrement(key: string): Promise<void> {
    return this.redis.run(
      async (client) => void (await client.eval(DECREMENT_SCRIPT, 1, key)),
      () => {
        const value = this.local.get(key);
        if (value !== undefined) {
          this.local.set(key, value - 1, { noUpdateTTL: true });
        }
      },
    );
  }

  read(keys: string[]): Promise<Counter[]> {
    return this.redis.run(
      async (client) => {
        const replies = (await keys
          .reduce((pipeline, key) => pipeline.get(key).pttl(key), client.pipeline())
          .exec()) as [Error | null, unknown][];
        if (replies.some(([error]) => error)) {
          throw replies.find(([error]) => error)![0];
        }
        return keys.map((_, index) => ({
          value: Number(replies[2 * index][1] ?? 0),
          ttlMs: Math.max(0, Number(replies[2 * index + 1][1])),
        }));
      },
      () =>
        keys.map((key) => ({ value: this.local.get(key) ?? 0, ttlMs: Math.max(0, this.local.getRemainingTTL(key)) })),
    );
  }

  put(key: string, value: number, ttlMs: number): Promise<void> {
    return this.redis.run(
      async (client) => void (await client.set(key, value, 'PX', ttlMs)),
      () => void this.local.set(key, value, { ttl: ttlMs }),
    );
  }

  remove(key: string): Promise<void> {
    return this.redis.run(
      async (client) => void (await client.del(key)),
      () => void this.local.delete(key),
    );
  }
}
