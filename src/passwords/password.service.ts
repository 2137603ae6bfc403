import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import * as bcrypt from 'bcrypt';
import { randomBytes } from 'node:crypto';
import { Environment } from '../config/environment';
import { PASSWORD_MAX_BYTES } from './password-policy';

/**
 * bcrypt at the configured cost, at most BCRYPT_CONCURRENCY at a time: on a core or more of its own
 * the event loop and the database keep answering other requests while logins pour in.
 */
@Injectable()
export class PasswordService implements OnModuleInit {
  private readonly cost: number;
  private readonly concurrency: number;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Compared against when an email is unknown, so that a miss costs as long as a wrong password. */
  private dummyHash: string;

  constructor(config: ConfigService<Environment, true>) {
    this.cost = config.get('BCRYPT_COST', { infer: true });
    this.concurrency = config.get('BCRYPT_CONCURRENCY', { infer: true });
  }

  async onModuleInit(): Promise<void> {
    this.dummyHash = await this.hash(randomBytes(24).toString('base64'));
  }

  hash(password: string): Promise<string> {
    return this.inTurn(() => bcrypt.hash(password, this.cost));
  }

  /** Passing no hash still spends a full comparison and then fails. */
  async verify(password: string, hash: string | undefined): Promise<boolean> {
    const withinLimit = Buffer.byteLength(password, 'utf8') <= PASSWORD_MAX_BYTES;
    const matches = await this.inTurn(() => bcrypt.compare(password, hash ?? this.dummyHash));
    return matches && withinLimit && hash !== undefined;
  }

  /** Runs `work` once fewer than `concurrency` others run, in the order asked. */
  private async inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) {
        next();
      } else {
        this.running -= 1;
      }
    }
  }
}
