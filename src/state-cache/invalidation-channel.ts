import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Redis } from 'ioredis';
import cluster from 'node:cluster';
import { setTimeout as sleep } from 'node:timers/promises';
import { REDIS_TIMEOUT_MS, redisOptions } from '../common/redis-options';
import { Environment } from '../config/environment';

/** Every key, as one invalidation: what a subscriber that may have missed messages drops. */
export const EVERY_KEY = '*';

/** The Redis channel every instance publishes and subscribes to. */
const REDIS_CHANNEL = 'org-service:state-invalidation';

/** The IPC message a worker process sends, and the primary passes on to the other workers. */
export interface WorkerInvalidation {
  stateInvalidation: string[];
}

export function isWorkerInvalidation(message: unknown): message is WorkerInvalidation {
  return isKeyList((message as Partial<WorkerInvalidation> | null)?.stateInvalidation);
}

function isKeyList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((key) => typeof key === 'string');
}

/**
 * Tells the other processes which cached records changed: the other workers of this instance
 * (WEB_CONCURRENCY) through the cluster primary, and other instances through Redis pub/sub when
 * REDIS_URL is set. Delivery is best effort: what it misses, the cache's time bound catches.
 */
@Injectable()
export class InvalidationChannel implements OnModuleInit, OnApplicationShutdown {
  private readonly listeners: ((keys: string[]) => void)[] = [];
  private readonly publisher?: Redis;
  private readonly subscriber?: Redis;
  private readonly subscribed?: Promise<unknown>;

  constructor(config: ConfigService<Environment, true>) {
    if (cluster.isWorker) {
      process.on('message', this.fromWorkers);
    }
    const url = config.get('REDIS_URL', { infer: true });
    if (!url) {
      return;
    }
    this.publisher = new Redis(url, redisOptions());
    // Queued until connected, and subscribed again after every reconnection.
    this.subscriber = new Redis(url, { ...redisOptions(), enableOfflineQueue: true });
    this.publisher.on('error', () => undefined);
    this.subscriber.on('error', () => undefined);
    // Messages published while it was away are lost: whatever it holds may be stale.
    this.subscriber.on('ready', () => this.deliver([EVERY_KEY]));
    this.subscriber.on('message', (_channel: string, message: string) => this.fromRedis(message));
    this.subscribed = this.subscriber.subscribe(REDIS_CHANNEL).catch(() => undefined);
  }

  /** Listening before the first request, unless Redis is unreachable: the time bound covers that. */
  async onModuleInit(): Promise<void> {
    if (this.subscribed) {
      await Promise.race([this.subscribed, sleep(REDIS_TIMEOUT_MS, undefined, { ref: false })]);
    }
  }

  onInvalidation(listener: (keys: string[]) => void): void {
    this.listeners.push(listener);
  }

  publish(keys: string[]): void {
    if (cluster.isWorker && process.connected) {
      process.send?.({ stateInvalidation: keys } satisfies WorkerInvalidation);
    }
    this.publisher?.publish(REDIS_CHANNEL, JSON.stringify(keys)).catch(() => undefined);
  }

  onApplicationShutdown(): void {
    process.off('message', this.fromWorkers);
    this.publisher?.disconnect();
    this.subscriber?.disconnect();
  }

  private readonly fromWorkers = (message: unknown): void => {
    if (isWorkerInvalidation(message)) {
      this.deliver(message.stateInvalidation);
    }
  };

  private fromRedis(message: string): void {
    try {
      const keys: unknown = JSON.parse(message);
      if (isKeyList(keys)) {
        this.deliver(keys);
      }
    } catch {
      // Not ours: ignored.
    }
  }

  private deliver(keys: string[]): void {
    this.listeners.forEach((listener) => listener(keys));
  }
}
