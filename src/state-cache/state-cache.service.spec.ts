import { ConfigService } from '@nestjs/config';
import { Environment } from '../config/environment';
import { EVERY_KEY, InvalidationChannel } from './invalidation-channel';
import { StateCache } from './state-cache.service';

/** A channel that records what is published, and delivers what another process would send. */
class FakeChannel {
  published: string[][] = [];
  private listener: (keys: string[]) => void = () => undefined;
  onInvalidation(listener: (keys: string[]) => void): void {
    this.listener = listener;
  }
  publish(keys: string[]): void {
    this.published.push(keys);
  }
  fromElsewhere(keys: string[]): void {
    this.listener(keys);
  }
}

function cacheWith(ttlMs: number) {
  const settings: Partial<Environment> = { TOKEN_STATE_TTL_MS: ttlMs, TOKEN_STATE_CACHE_SIZE: 100 };
  const config = { get: (key: keyof Environment) => settings[key] } as unknown as ConfigService<Environment, true>;
  const channel = new FakeChannel();
  return { cache: new StateCache(config, channel as unknown as InvalidationChannel), channel };
}

/** A load whose answer the test gives when it likes. */
function deferredLoad<T>() {
  let resolve!: (value: T) => void;
  const load = jest.fn(() => new Promise<T>((done) => (resolve = done)));
  return { load, answer: (value: T) => resolve(value) };
}

describe('StateCache', () => {
  it('reads once, then serves the record from memory until it is invalidated', async () => {
    const { cache, channel } = cacheWith(60_000);
    const load = jest.fn().mockResolvedValueOnce({ version: 1 }).mockResolvedValueOnce({ version: 2 });
    expect(await cache.read('admin:1', load)).toEqual({ version: 1 });
    expect(await cache.read('admin:1', load)).toEqual({ version: 1 });
    expect(load).toHaveBeenCalledTimes(1);

    cache.invalidate('admin:1');
    expect(channel.published).toEqual([['admin:1']]);
    expect(await cache.read('admin:1', load)).toEqual({ version: 2 });
  });

  it('does not keep what a read that began before an invalidation returned', async () => {
    const { cache } = cacheWith(60_000);
    const stale = deferredLoad<{ version: number }>();
    const reading = cache.read('admin:1', stale.load);
    cache.invalidate('admin:1');
    stale.answer({ version: 1 });
    expect(await reading).toEqual({ version: 1 });

    const fresh = jest.fn().mockResolvedValue({ version: 2 });
    expect(await cache.read('admin:1', fresh)).toEqual({ version: 2 });
    expect(fresh).toHaveBeenCalledTimes(1);
  });

  it('shares one load among concurrent reads, but not with a read that begins after an invalidation', async () => {
    const { cache } = cacheWith(60_000);
    const first = deferredLoad<string>();
    const together = [cache.read('k', first.load), cache.read('k', first.load)];
    cache.invalidate('k');
    const after = jest.fn().mockResolvedValue('new');
    const later = cache.read('k', after);
    first.answer('old');
    expect(await Promise.all(together)).toEqual(['old', 'old']);
    expect(await later).toBe('new');
    expect(first.load).toHaveBeenCalledTimes(1);
    expect(after).toHaveBeenCalledTimes(1);
  });

  it('drops what other processes say changed, and everything on EVERY_KEY', async () => {
    const { cache, channel } = cacheWith(60_000);
    const load = jest.fn().mockResolvedValue('value');
    await cache.read('a', load);
    await cache.read('b', load);
    channel.fromElsewhere(['a']);
    await cache.read('a', load);
    await cache.read('b', load);
    expect(load).toHaveBeenCalledTimes(3);

    channel.fromElsewhere([EVERY_KEY]);
    await cache.read('a', load);
    await cache.read('b', load);
    expect(load).toHaveBeenCalledTimes(5);
    expect(channel.published).toEqual([]);
  });

  it('forgets an entry after TOKEN_STATE_TTL_MS, and reads every time at 0', async () => {
    const { cache } = cacheWith(50);
    const load = jest.fn().mockResolvedValue('value');
    await cache.read('k', load);
    await cache.read('k', load);
    expect(load).toHaveBeenCalledTimes(1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await cache.read('k', load);
    expect(load).toHaveBeenCalledTimes(2);

    const uncached = cacheWith(0).cache;
    const everyTime = jest.fn().mockResolvedValue('value');
    await uncached.read('k', everyTime);
    await uncached.read('k', everyTime);
    expect(everyTime).toHaveBeenCalledTimes(2);
  });
});
