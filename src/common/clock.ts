import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { Connection } from 'mongoose';

/** How often the database server's time is read again, to follow a clock that was set meanwhile. */
const RESAMPLE_MS = 5_000;

/**
 * The instance's own clock. A provider of its own, so that a test can run an instance whose clock
 * is skewed (`overrideProvider(Clock)`). Nothing that other instances also judge (operation leases)
 * may come from it directly: see DatabaseClock.
 */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }
}

/**
 * The database server's clock, the one clock all instances share. Its time is read from the server
 * (`localTime` in the `hello` reply, on MongoDB as on mongo-java-server) at start-up and every few
 * seconds, and kept as an offset from the instance's own clock, so that `now()` needs no round trip.
 * The offset is taken at the midpoint of the round trip: off by at most half of it.
 *
 * Comparisons against "now" are better done by the server itself (`$$NOW` in `$expr`); this is for
 * the times an instance writes, such as the end of a lease.
 */
@Injectable()
export class DatabaseClock implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(DatabaseClock.name);
  private offsetMs = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.sample();
    this.timer = setInterval(
      () =>
        void this.sample().catch((error: Error) =>
          this.logger.warn(`Could not read the database server's time, keeping the last offset: ${error.message}`),
        ),
      RESAMPLE_MS,
    );
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The database server's time now, as far as this instance can tell. */
  now(): Date {
    return new Date(this.clock.now() + this.offsetMs);
  }

  /** Reads the server's time and keeps its offset from the instance's own clock. */
  async sample(): Promise<void> {
    const sent = this.clock.now();
    const reply = await this.connection.getClient().db('admin').command({ hello: 1 });
    const received = this.clock.now();
    if (!(reply.localTime instanceof Date)) {
      throw new Error('the hello reply carries no localTime');
    }
    this.offsetMs = reply.localTime.getTime() - (sent + received) / 2;
  }
}
