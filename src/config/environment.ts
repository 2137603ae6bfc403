import { plainToInstance } from 'class-transformer';
import { IsEmail, IsEnum, IsIn, IsOptional, IsString, Matches, ValidateBy, validateSync } from 'class-validator';
import { availableParallelism } from 'node:os';
import { passwordProblem } from '../passwords/password-policy';
import { WholeNumber } from '../common/decorators/whole-number.decorator';

export enum TenancyMode {
  Collection = 'collection',
  Database = 'database',
}

const MIN_PRODUCTION_SECRET_LENGTH = 32;
const MIN_PRODUCTION_BCRYPT_COST = 10;

export class Environment {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';

  @WholeNumberSetting(0, 65535)
  PORT = 3000;

  /** Worker processes sharing the port (node:cluster), to use more than one core. */
  @WholeNumberSetting(1, 256)
  WEB_CONCURRENCY = 1;

  /** This machine only by default; the image and compose set 0.0.0.0 to listen on every interface. */
  @IsString()
  HOST = '127.0.0.1';

  @Matches(/^mongodb(\+srv)?:\/\/\S+$/, { message: 'MONGODB_URI must be a mongodb:// or mongodb+srv:// URI' })
  MONGODB_URI: string;

  /** Never `org_...`: that prefix names tenant databases. */
  @Matches(/^(?![oO][rR][gG]_)[A-Za-z0-9_-]{1,38}$/, {
    message: 'MASTER_DB_NAME must be 1 to 38 letters, digits, - or _, and not start with org_',
  })
  MASTER_DB_NAME = 'master_db';

  @IsEnum(TenancyMode)
  TENANCY_MODE = TenancyMode.Collection;

  /** Required in production; in development a generated one is kept in .data/jwt-secret (see JwtSecret). */
  @IsOptional()
  @IsString()
  JWT_SECRET?: string;

  @WholeNumberSetting(60, 7 * 24 * 3600)
  JWT_EXPIRES_IN_SECONDS = 1800;

  /** How long a refresh token may wait to be used (each works once). */
  @WholeNumberSetting(1, 365 * 24 * 3600)
  REFRESH_TOKEN_TTL_SECONDS = 14 * 24 * 3600;

  /** Under 10 only outside production: for seeding many organizations quickly (npm run bench:scale). */
  @WholeNumberSetting(4, 15)
  BCRYPT_COST = 12;

  /**
   * bcrypt hashes and comparisons run at once; the rest wait their turn. One core fewer than the
   * machine has by default, so that a flood of logins leaves the other requests a core.
   */
  @WholeNumberSetting(1, 256)
  BCRYPT_CONCURRENCY = Math.max(1, availableParallelism() - 1);

  @IsOptional()
  @IsEmail()
  SUPERADMIN_EMAIL?: string;

  @IsOptional()
  @IsString()
  SUPERADMIN_PASSWORD?: string;

  @WholeNumberSetting(100, 60000)
  DB_TIMEOUT_MS = 3000;

  @WholeNumberSetting(1024, 10 * 1024 * 1024)
  BODY_LIMIT_BYTES = 16 * 1024;

  /** How long a client may take to send its whole request, and leave an answer unread (the service's own time does not count). */
  @WholeNumberSetting(1000, 600_000)
  REQUEST_TIMEOUT_MS = 30000;

  @WholeNumberSetting(100, 600_000)
  OPERATION_LEASE_MS = 30000;

  /** How long the driver waits for an answer on an open connection before it gives the operation up. */
  @WholeNumberSetting(500, 600_000)
  DB_SOCKET_TIMEOUT_MS = 30000;

  /**
   * How long a request may use its organization's storage after its token was checked. A vacated
   * name stays reserved for this plus DB_SOCKET_TIMEOUT_MS, so no late write can reach its next owner.
   */
  @WholeNumberSetting(100, 600_000)
  TENANT_HANDLE_TTL_MS = 10000;

  /** Tenant models kept compiled, least recently used first out. */
  @WholeNumberSetting(1, 1_000_000)
  TENANT_CACHE_SIZE = 1000;

  /** A tenant model unused for this long is dropped from the cache. */
  @WholeNumberSetting(1000, 86_400_000)
  TENANT_CACHE_IDLE_MS = 600000;

  /**
   * How long an instance may go on using what a token depends on (its admin or member, its
   * organization) without reading it again: how long another instance may still accept a token
   * revoked elsewhere when no message from Redis or a sibling worker tells it sooner. 0 reads them
   * for every request.
   */
  @WholeNumberSetting(0, 60_000)
  TOKEN_STATE_TTL_MS = 1000;

  /** Token states kept, least recently used first out. */
  @WholeNumberSetting(1, 10_000_000)
  TOKEN_STATE_CACHE_SIZE = 10000;

  /**
   * Shares rate-limit counters between instances, and tells them at once of revoked tokens; without
   * it each instance counts alone, and learns of revocations within TOKEN_STATE_TTL_MS.
   */
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  /** Failed logins for one email from one address per window; then 429 for that pair. */
  @WholeNumberSetting(1)
  LOGIN_RATE_LIMIT = 10;

  /** Failed logins for one email from all addresses (then a growing back-off), or from one address for all emails. */
  @WholeNumberSetting(1)
  LOGIN_FAILURE_CEILING = 100;

  @WholeNumberSetting(1, 86_400)
  LOGIN_RATE_WINDOW_SECONDS = 60;

  /** Organization creates from one client address per window. */
  @WholeNumberSetting(1)
  CREATE_RATE_LIMIT = 60;

  /** Organization creates from all addresses together per window. */
  @WholeNumberSetting(1)
  CREATE_GLOBAL_RATE_LIMIT = 600;

  @WholeNumberSetting(1, 86_400)
  CREATE_RATE_WINDOW_SECONDS = 60;

  /**
   * Whether X-Forwarded-For is believed: `false` (default), `true` (any proxy), a number of proxy
   * hops, or a comma-separated list of proxy addresses or CIDR ranges.
   */
  @Matches(/^(true|false|\d+|[0-9A-Fa-f.:/]+(\s*,\s*[0-9A-Fa-f.:/]+)*)$/, {
    message: 'TRUST_PROXY must be true, false, a number of hops or a comma-separated list of addresses',
  })
  TRUST_PROXY = 'false';

  /** Origins allowed to call the API from a browser, comma-separated; none when empty. */
  @IsOptional()
  @IsString()
  CORS_ORIGINS?: string;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}

/**
 * Validates process.env once at start-up; any problem stops the start with every message at once,
 * one message per invalid setting.
 */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const definedOnly = Object.fromEntries(
    Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''),
  );
  const env = plainToInstance(Environment, definedOnly, { exposeDefaultValues: true });
  const problems = validateSync(env, { whitelist: false }).flatMap((error) =>
    Object.values(error.constraints ?? {}).slice(0, 1),
  );
  problems.push(...crossFieldProblems(env));
  if (problems.length === 1) {
    throw new Error(`Invalid configuration: ${problems[0]}`);
  }
  if (problems.length > 0) {
    throw new Error(`Invalid configuration:\n - ${problems.join('\n - ')}`);
  }
  return env;
}

/**
 * A whole number within bounds, from plain decimal digits only (`1e3`, `0x10` and `-1` stay strings),
 * as one rule with one message: `PORT=abc` is told the range once, not "not an integer", "less than
 * 0" and "greater than 65535" at the same time.
 */
function WholeNumberSetting(min: number, max?: number): PropertyDecorator {
  const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
  const validate = ValidateBy({
    name: 'wholeNumberSetting',
    constraints: [min, max],
    validator: {
      validate: (value: unknown) =>
        typeof value === 'number' && Number.isInteger(value) && value >= min && (max === undefined || value <= max),
      defaultMessage: (args) => `${args?.property} must be a whole number ${range}`,
    },
  });
  return (target, property) => {
    WholeNumber()(target, property);
    validate(target, property);
  };
}

function crossFieldProblems(env: Environment): string[] {
  const problems: string[] = [];
  const production = env.NODE_ENV === 'production';
  if (production && (env.JWT_SECRET?.trim().length ?? 0) < MIN_PRODUCTION_SECRET_LENGTH) {
    problems.push(
      `JWT_SECRET must be set to a random string of at least ${MIN_PRODUCTION_SECRET_LENGTH} characters in production ` +
        '(for example: openssl rand -base64 48)',
    );
  }
  if (production && env.BCRYPT_COST < MIN_PRODUCTION_BCRYPT_COST) {
    problems.push(`BCRYPT_COST must be at least ${MIN_PRODUCTION_BCRYPT_COST} in production`);
  }
  if (Boolean(env.SUPERADMIN_EMAIL) !== Boolean(env.SUPERADMIN_PASSWORD)) {
    problems.push('SUPERADMIN_EMAIL and SUPERADMIN_PASSWORD must be set together');
  }
  const superadminPasswordProblem = env.SUPERADMIN_PASSWORD ? passwordProblem(env.SUPERADMIN_PASSWORD) : null;
  if (superadminPasswordProblem) {
    problems.push(`SUPERADMIN_PASSWORD: ${superadminPasswordProblem}`);
  }
  return problems;
}
