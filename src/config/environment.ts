import { plainToInstance } from 'class-transformer';
import { IsEmail, IsEnum, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';
import { passwordProblem } from '../auth/password-policy';
import { WholeNumber } from '../common/decorators/whole-number.decorator';

export enum TenancyMode {
  Collection = 'collection',
  Database = 'database',
}

const MIN_PRODUCTION_SECRET_LENGTH = 32;

export class Environment {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';

  @WholeNumber()
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  @Matches(/^mongodb(\+srv)?:\/\/\S+$/, { message: 'MONGODB_URI must be a mongodb:// or mongodb+srv:// URI' })
  MONGODB_URI: string;

  /** Never `org_...`: that prefix names tenant databases. */
  @Matches(/^(?![oO][rR][gG]_)[A-Za-z0-9_-]{1,38}$/, {
    message: 'MASTER_DB_NAME must be 1 to 38 letters, digits, - or _, and not start with org_',
  })
  MASTER_DB_NAME = 'master_db';

  @IsEnum(TenancyMode)
  TENANCY_MODE = TenancyMode.Collection;

  /** Required in production; elsewhere a random secret is made at each start. */
  @IsOptional()
  @IsString()
  JWT_SECRET?: string;

  @WholeNumber()
  @IsInt()
  @Min(60)
  @Max(7 * 24 * 3600)
  JWT_EXPIRES_IN_SECONDS = 1800;

  @WholeNumber()
  @IsInt()
  @Min(10)
  @Max(15)
  BCRYPT_COST = 12;

  @IsOptional()
  @IsEmail()
  SUPERADMIN_EMAIL?: string;

  @IsOptional()
  @IsString()
  SUPERADMIN_PASSWORD?: string;

  @WholeNumber()
  @IsInt()
  @Min(100)
  @Max(60000)
  DB_TIMEOUT_MS = 3000;

  @WholeNumber()
  @IsInt()
  @Min(1024)
  @Max(10 * 1024 * 1024)
  BODY_LIMIT_BYTES = 16 * 1024;

  /** How long a client may take to send its whole request, and leave an answer unread (the service's own time does not count). */
  @WholeNumber()
  @IsInt()
  @Min(1000)
  @Max(600_000)
  REQUEST_TIMEOUT_MS = 30000;

  @WholeNumber()
  @IsInt()
  @Min(100)
  @Max(600_000)
  OPERATION_LEASE_MS = 30000;

  /** Shares rate-limit counters between instances; without it each instance counts alone. */
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  @WholeNumber()
  @IsInt()
  @Min(1)
  LOGIN_RATE_LIMIT = 10;

  @WholeNumber()
  @IsInt()
  @Min(1)
  @Max(86_400)
  LOGIN_RATE_WINDOW_SECONDS = 60;

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

/** Validates process.env once at start-up; any problem stops the start with every message at once. */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const definedOnly = Object.fromEntries(
    Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''),
  );
  const env = plainToInstance(Environment, definedOnly, { exposeDefaultValues: true });
  const problems = validateSync(env, { whitelist: false }).flatMap((error) => Object.values(error.constraints ?? {}));
  problems.push(...crossFieldProblems(env));
  if (problems.length > 0) {
    throw new Error(`Invalid configuration:\n - ${problems.join('\n - ')}`);
  }
  return env;
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
  if (Boolean(env.SUPERADMIN_EMAIL) !== Boolean(env.SUPERADMIN_PASSWORD)) {
    problems.push('SUPERADMIN_EMAIL and SUPERADMIN_PASSWORD must be set together');
  }
  const superadminPasswordProblem = env.SUPERADMIN_PASSWORD ? passwordProblem(env.SUPERADMIN_PASSWORD) : null;
  if (superadminPasswordProblem) {
    problems.push(`SUPERADMIN_PASSWORD: ${superadminPasswordProblem}`);
  }
  return problems;
}
