import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LRUCache } from 'lru-cache';
import { Environment } from '../config/environment';
import { EVERY_KEY, InvalidationChannel } from './invalidation-channel';

interface PendingRead {
  readonly promise: Promise<unknown>;
  /** The invalidation count when the read began. */
  readonly since: number;
}

/**
 * The records a token depends on (its admin or member, its organization), kept for up to
 * TOKEN_STATE_TTL_MS so that an authenticated request needs no database round trip for its token.
 *
 * Whoever writes such a record calls `invalidate` once the write is acknowledged: this process drops
 * it at once, and the others (other workers, other instances through Redis) as soon as the message
 * reaches them, at the latest when their entry expires. So a revoked token is refused at once here,
 * and within TOKEN_STATE_TTL_MS everywhere.
 */
@Injectable()
export class StateCache {
  private readonly entries?: LRUCache<string, { value: unknown }>;
  private readonly pending = new Map<string, PendingRead>();
  /** Counts invalidations: a read that began before one may have read what it removed, so it is not kept. */
  private invalidations = 0;

  constructor(
    config: ConfigService<Environment, true>,
    private readonly channel: InvalidationChannel,
  ) {
    const ttl = config.get('TOKEN_STATE_TTL_MS', { infer: true });
    if (ttl > 0) {
      this.entries = new LRUCache({ max: config.get('TOKEN_STATE_CACHE_SIZE', { infer: true }), ttl });
    }
    channel.onInvalidation((keys) => this.drop(keys));
  }

  /** The record under `key`, from the cache or else from `load` (one load at a time per key). */
  async read<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (!this.entries) {
      return load();
    }
    const cached = this.entries.get(key);
    if (cached) {
      return cached.value as T;
    }
    const joined = this.pending.get(key);
    if (joined && joined.since === this.invalidations) {
      return joined.promise as Promise<T>;
    }
    const since = this.invalidations;
    const promise = load();
    const read = { promise, since };
    this.pending.set(key, read);
    try {
      const value = await promise;
      if (since === this.invalidations) {
        this.entries.set(key, { value: Object.freeze(value) });
      }
      return value;
    } finally {
      if (this.pending.get(key) === read) {
        this.pending.delete(key);
      }
    }
  }

  /** After a write to the records of `keys` (acknowledged or not: it may have applied). */
  invalidate(...keys: string[]): void {
    this.drop(keys);
    this.channel.publish(keys);
  }

  /** After a write whose records cannot be named one by one. */
  invalidateAll(): void {
    this.invalidate(EVERY_KEY);
  }

  private drop(keys: string[]): void {
    this.invalidations += 1;
    if (keys.includes(EVERY_KEY)) {
      this.entries?.clear();
      return;
    }
    keys.forEach((key) => this.entries?.delete(key));
  }
}
