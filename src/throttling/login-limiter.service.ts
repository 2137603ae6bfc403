import { HttpException, HttpStatus, Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { normalizeEmail } from '../common/email';
import { Environment } from '../config/environment';
import { SharedCounters } from './shared-counters';

export const LOGIN_LIMITED = 'Too many login attempts; retry later';
const DAY_MS = 86_400_000;
/** The back-off doubles with each ceiling reached within a day, up to 2^10 windows. */
const MAX_BACKOFF_DOUBLINGS = 10;

/**
 * Login limits that count failures only, so that an attacker cannot turn them against the admin:
 * - an email from one address: LOGIN_RATE_LIMIT failures per window, then 429 for that pair only;
 * - an email from everywhere: LOGIN_FAILURE_CEILING failures per window start a back-off (doubling
 *   each time within a day) during which only addresses that have not failed for it may try, so a
 *   correct password from elsewhere still gets in;
 * - one address, whatever the email: LOGIN_FAILURE_CEILING failures per window, then 429.
 * A success clears the failures of its email from its address.
 */
@Injectable()
export class LoginLimiter {
  private readonly pairLimit: number;
  private readonly ceiling: number;
  private readonly windowMs: number;

  constructor(
    private readonly counters: SharedCounters,
    config: ConfigService<Environment, true>,
  ) {
    this.pairLimit = config.get('LOGIN_RATE_LIMIT', { infer: true });
    this.ceiling = config.get('LOGIN_FAILURE_CEILING', { infer: true });
    this.windowMs = config.get('LOGIN_RATE_WINDOW_SECONDS', { infer: true }) * 1000;
  }

  /**
   * Runs the login if these limits allow it. The attempt counts against its address from the start,
   * so that attempts sent together cannot all pass the check before any has failed; a success or an
   * answer other than 401 gives it back.
   */
  async attempt<T>(email: string, address: string, login: () => Promise<T>): Promise<T> {
    const keys = keysOf(normalizeEmail(email).slice(0, 254), address);
    await Promise.all([
      this.counters.increment(keys.pair, this.windowMs),
      this.counters.increment(keys.address, this.windowMs),
    ]);
    await this.assertMayTry(keys);
    try {
      const result = await login();
      await Promise.all([this.counters.remove(keys.pair), this.counters.decrement(keys.address)]);
      return result;
    } catch (error) {
      await (error instanceof UnauthorizedException
        ? this.recordFailure(keys)
        : Promise.all([this.counters.decrement(keys.pair), this.counters.decrement(keys.address)]));
      throw error;
    }
  }

  /** Counted already: this attempt is the pair's `pair.value`th. */
  private async assertMayTry(keys: Keys): Promise<void> {
    const [pair, address, backOff] = await this.counters.read([keys.pair, keys.address, keys.backOff]);
    if (pair.value > this.pairLimit) {
      throw tooManyAttempts(pair.ttlMs);
    }
    if (address.value > this.ceiling) {
      throw tooManyAttempts(address.ttlMs);
    }
    if (backOff.value > 0 && pair.value > 1) {
      throw tooManyAttempts(backOff.ttlMs);
    }
  }

  /** The pair and the address counted the attempt already; the email's count may start a back-off. */
  private async recordFailure(keys: Keys): Promise<void> {
    if ((await this.counters.increment(keys.email, this.windowMs)) < this.ceiling) {
      return;
    }
    const strikes = await this.counters.increment(keys.strikes, DAY_MS);
    await this.counters.put(keys.backOff, 1, this.windowMs * 2 ** Math.min(strikes - 1, MAX_BACKOFF_DOUBLINGS));
    await this.counters.remove(keys.email);
  }
}

interface Keys {
  pair: string;
  address: string;
  email: string;
  strikes: string;
  backOff: string;
}

function keysOf(email: string, address: string): Keys {
  return {
    pair: `login:pair:${address}:${email}`,
    address: `login:address:${address}`,
    email: `login:email:${email}`,
    strikes: `login:strikes:${email}`,
    backOff: `login:back-off:${email}`,
  };
}

export function tooManyAttempts(retryAfterMs: number, message = LOGIN_LIMITED): HttpException {
  return new HttpException(
    { message, retryAfterSeconds: Math.max(1, Math.ceil(Math.floor(retryAfterMs) / 1000)) },
    HttpStatus.TOO_MANY_REQUESTS,
  );
}
