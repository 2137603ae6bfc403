import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomBytes } from 'node:crypto';
import { Environment } from '../config/environment';

/**
 * The HS256 signing secret. Production must configure one (checked at start-up); elsewhere an unset
 * JWT_SECRET gets a random one per process, so no well-known default can ever sign a token.
 */
@Injectable()
export class JwtSecret {
  readonly value: string;

  constructor(config: ConfigService<Environment, true>) {
    const configured = config.get('JWT_SECRET', { infer: true });
    if (configured) {
      this.value = configured;
      return;
    }
    this.value = randomBytes(48).toString('base64url');
    new Logger(JwtSecret.name).warn('JWT_SECRET is not set: using a random secret; tokens end with this process');
  }
}
