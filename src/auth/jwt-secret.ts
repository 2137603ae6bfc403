import { Injectable, Logger, LoggerService } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createSecretKey, KeyObject, randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Environment } from '../config/environment';

/** The file, in the data directory, that keeps the development secret across restarts. */
export const DEVELOPMENT_SECRET_FILE = 'jwt-secret';
/** A kept secret shorter than this (a truncated or hand-edited file) is replaced by a new one. */
const MIN_KEPT_SECRET_LENGTH = 32;

/**
 * The HS256 signing secret. Production must configure one (checked at start-up). In development an
 * unset JWT_SECRET gets a random one, generated once and kept in `.data/jwt-secret` (mode 600) under
 * the working directory, so that a restart keeps everyone's sessions; with NODE_ENV=test it is random
 * per process and nothing is written. No well-known default can ever sign a token.
 */
@Injectable()
export class JwtSecret {
  readonly value: string;
  /** The same secret as a key object, made once: jsonwebtoken would make one for every verification. */
  readonly key: KeyObject;

  constructor(config: ConfigService<Environment, true>) {
    this.value = JwtSecret.resolve(
      config.get('JWT_SECRET', { infer: true }),
      config.get('NODE_ENV', { infer: true }),
      join(process.cwd(), '.data'),
    );
    this.key = createSecretKey(Buffer.from(this.value));
  }

  /**
   * The secret to sign with: the configured one, else (development) the one kept in `dataDirectory`,
   * created there on first use, else a random one for this process only.
   */
  static resolve(
    configured: string | undefined,
    nodeEnv: string,
    dataDirectory: string,
    logger: Pick<LoggerService, 'log' | 'warn'> = new Logger(JwtSecret.name),
  ): string {
    if (configured) {
      return configured;
    }
    if (nodeEnv === 'production') {
      throw new Error('JWT_SECRET must be set in production');
    }
    if (nodeEnv !== 'development') {
      logger.warn('JWT_SECRET is not set: using a random secret; tokens end with this process');
      return newSecret();
    }
    const file = join(dataDirectory, DEVELOPMENT_SECRET_FILE);
    const shown = relative(process.cwd(), file) || file;
    try {
      const { secret, created } = keptSecret(file, dataDirectory);
      logger.log(
        created
          ? `JWT_SECRET is not set: created a development secret in ${shown}, kept across restarts`
          : `JWT_SECRET is not set: using the development secret kept in ${shown}`,
      );
      return secret;
    } catch (error) {
      logger.warn(
        `JWT_SECRET is not set and ${shown} cannot be kept (${(error as Error).message}): ` +
          'using a random secret; tokens end with this process',
      );
      return newSecret();
    }
  }
}

function newSecret(): string {
  return randomBytes(48).toString('base64url');
}

/** The secret kept in `file`, or a new one written there (readable by its owner only). */
function keptSecret(file: string, directory: string): { secret: string; created: boolean } {
  const existing = readKept(file);
  if (existing.secret) {
    return { secret: existing.secret, created: false };
  }
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const secret = newSecret();
  // Written whole under a temporary name, then linked into place: a concurrent start never reads a
  // half-written file, and if two starts race, both end up with the one that got there first.
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, `${secret}\n`, { mode: 0o600 });
    if (existing.present) {
      rmSync(file, { force: true }); // an unusable one (empty, truncated): replaced
    }
    try {
      linkSync(temporary, file);
    } catch (error) {
      const winner = (error as NodeJS.ErrnoException).code === 'EEXIST' ? readKept(file).secret : null;
      if (winner) {
        return { secret: winner, created: false };
      }
      throw error;
    }
  } finally {
    rmSync(temporary, { force: true });
  }
  return { secret, created: true };
}

/**
 * The kept secret, with its permissions tightened to 600 if need be; `secret` is null when the file
 * is absent (`present` false) or unusable.
 */
function readKept(file: string): { secret: string | null; present: boolean } {
  let content: string;
  try {
    content = readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { secret: null, present: false };
    }
    throw error;
  }
  if (content.length < MIN_KEPT_SECRET_LENGTH) {
    return { secret: null, present: true };
  }
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    chmodSync(file, 0o600);
  }
  return { secret: content, present: true };
}
