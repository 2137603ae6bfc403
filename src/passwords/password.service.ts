import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import * as bcrypt from 'bcrypt';
import { randomBytes } from 'node:crypto';
import { Environment } from '../config/environment';
import { PASSWORD_MAX_BYTES } from './password-policy';

@Injectable()
export class PasswordService implements OnModuleInit {
  private readonly cost: number;
  /** Compared against when an email is unknown, so that a miss costs as long as a wrong password. */
  private dummyHash: string;

  constructor(config: ConfigService<Environment, true>) {
    this.cost = config.get('BCRYPT_COST', { infer: true });
  }

  async onModuleInit(): Promise<void> {
    this.dummyHash = await this.hash(randomBytes(24).toString('base64'));
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.cost);
  }

  /** Passing no hash still spends a full comparison and then fails. */
  async verify(password: string, hash: string | undefined): Promise<boolean> {
    const withinLimit = Buffer.byteLength(password, 'utf8') <= PASSWORD_MAX_BYTES;
    const matches = await bcrypt.compare(password, hash ?? this.dummyHash);
    return matches && withinLimit && hash !== undefined;
  }
}
