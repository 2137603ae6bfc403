import 'reflect-metadata';
import { TenancyMode, validateEnvironment } from './environment';

const URI = 'mongodb://localhost:27017';
const STRONG_SECRET = 'q7Vh2Lr9Xc4Bn8Mz1Kp6Wd3Tf5Gy0Js2Ae7Ru4';

/** The message of the error `validateEnvironment(raw)` throws, or fails the test if it does not throw. */
function problemsOf(raw: Record<string, unknown>): string {
  try {
    validateEnvironment(raw);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
}

describe('validateEnvironment', () => {
  it('applies the defaults when only MONGODB_URI is given', () => {
    const env = validateEnvironment({ MONGODB_URI: URI });
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      MONGODB_URI: URI,
      MASTER_DB_NAME: 'master_db',
      TENANCY_MODE: TenancyMode.Collection,
      BCRYPT_COST: 12,
    });
    expect(env.JWT_SECRET).toBeUndefined();
    expect(env.SUPERADMIN_EMAIL).toBeUndefined();
  });

  it('requires MONGODB_URI, as a mongodb:// or mongodb+srv:// URI', () => {
    expect(problemsOf({})).toMatch(/MONGODB_URI must be a mongodb:\/\/ or mongodb\+srv:\/\/ URI/);
    expect(problemsOf({ MONGODB_URI: 'http://localhost:27017' })).toMatch(/MONGODB_URI/);
    expect(problemsOf({ MONGODB_URI: 'mongodb://' })).toMatch(/MONGODB_URI/);
    expect(validateEnvironment({ MONGODB_URI: 'mongodb+srv://user:pw@cluster.example.net/db' }).MONGODB_URI).toBe(
      'mongodb+srv://user:pw@cluster.example.net/db',
    );
  });

  it('parses numbers from strings and refuses what is not an integer', () => {
    const env = validateEnvironment({ MONGODB_URI: URI, PORT: '8080', BCRYPT_COST: '10', DB_TIMEOUT_MS: '500' });
    expect(env).toMatchObject({ PORT: 8080, BCRYPT_COST: 10, DB_TIMEOUT_MS: 500 });
    expect(problemsOf({ MONGODB_URI: URI, PORT: 'eighty' })).toMatch(/PORT/);
    expect(problemsOf({ MONGODB_URI: URI, PORT: '80.5' })).toMatch(/PORT/);
  });

  it('refuses a BCRYPT_COST below 10 in production, and below 4 anywhere', () => {
    const production = { MONGODB_URI: URI, NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) };
    expect(problemsOf({ ...production, BCRYPT_COST: '9' })).toBe(
      'Invalid configuration: BCRYPT_COST must be at least 10 in production',
    );
    expect(validateEnvironment({ MONGODB_URI: URI, BCRYPT_COST: '4' }).BCRYPT_COST).toBe(4);
    expect(problemsOf({ MONGODB_URI: URI, BCRYPT_COST: '3' })).toMatch(
      /BCRYPT_COST must be a whole number from 4 to 15/,
    );
  });

  it('gives an invalid number one line: its range, not one message per broken rule', () => {
    for (const PORT of ['abc', '-1', '65536', '80.5', '1e3']) {
      expect(problemsOf({ MONGODB_URI: URI, PORT })).toBe(
        'Invalid configuration: PORT must be a whole number from 0 to 65535',
      );
    }
    expect(problemsOf({ MONGODB_URI: URI, LOGIN_RATE_LIMIT: '0' })).toBe(
      'Invalid configuration: LOGIN_RATE_LIMIT must be a whole number of at least 1',
    );
    expect(validateEnvironment({ MONGODB_URI: URI, PORT: '0' }).PORT).toBe(0);
    expect(validateEnvironment({ MONGODB_URI: URI, PORT: '65535' }).PORT).toBe(65535);
  });

  it('gives one message per invalid setting', () => {
    const message = problemsOf({ MONGODB_URI: URI, PORT: 'abc', DB_TIMEOUT_MS: 'soon', LOG_LEVEL: 'loud' });
    expect(message.split('\n')).toEqual([
      'Invalid configuration:',
      ' - PORT must be a whole number from 0 to 65535',
      ' - DB_TIMEOUT_MS must be a whole number from 100 to 60000',
      expect.stringMatching(/^ - LOG_LEVEL must be one of the following values: /),
    ]);
  });

  it('accepts only collection or database as TENANCY_MODE', () => {
    expect(validateEnvironment({ MONGODB_URI: URI, TENANCY_MODE: 'database' }).TENANCY_MODE).toBe(TenancyMode.Database);
    expect(problemsOf({ MONGODB_URI: URI, TENANCY_MODE: 'schema' })).toMatch(/TENANCY_MODE/);
  });

  it('refuses a missing, short or blank JWT_SECRET in production, naming JWT_SECRET', () => {
    const production = { MONGODB_URI: URI, NODE_ENV: 'production' };
    expect(problemsOf(production)).toMatch(/JWT_SECRET/);
    expect(problemsOf({ ...production, JWT_SECRET: 'x'.repeat(31) })).toMatch(/JWT_SECRET/);
    expect(problemsOf({ ...production, JWT_SECRET: ' '.repeat(40) })).toMatch(/JWT_SECRET/);
  });

  it('accepts a long random JWT_SECRET in production, and none at all outside it', () => {
    expect(
      validateEnvironment({ MONGODB_URI: URI, NODE_ENV: 'production', JWT_SECRET: STRONG_SECRET }).JWT_SECRET,
    ).toBe(STRONG_SECRET);
    expect(validateEnvironment({ MONGODB_URI: URI, NODE_ENV: 'test' }).JWT_SECRET).toBeUndefined();
  });

  it('refuses a master database name that tenant databases could take', () => {
    expect(problemsOf({ MONGODB_URI: URI, MASTER_DB_NAME: 'org_beta' })).toMatch(/MASTER_DB_NAME/);
    expect(problemsOf({ MONGODB_URI: URI, MASTER_DB_NAME: 'ORG_beta' })).toMatch(/MASTER_DB_NAME/);
    expect(validateEnvironment({ MONGODB_URI: URI, MASTER_DB_NAME: 'organizations' }).MASTER_DB_NAME).toBe(
      'organizations',
    );
  });

  it('reads only plain digits as numbers', () => {
    for (const PORT of ['   ', '0x1F90', '1e3', '-1']) {
      expect(problemsOf({ MONGODB_URI: URI, PORT })).toMatch(/PORT/);
    }
  });

  it('refuses SUPERADMIN_EMAIL without SUPERADMIN_PASSWORD, and the other way round', () => {
    const message = /SUPERADMIN_EMAIL and SUPERADMIN_PASSWORD must be set together/;
    expect(problemsOf({ MONGODB_URI: URI, SUPERADMIN_EMAIL: 'root@example.com' })).toMatch(message);
    expect(problemsOf({ MONGODB_URI: URI, SUPERADMIN_PASSWORD: 'long-enough-password' })).toMatch(message);
    const env = validateEnvironment({
      MONGODB_URI: URI,
      SUPERADMIN_EMAIL: 'root@example.com',
      SUPERADMIN_PASSWORD: 'long-enough-password',
    });
    expect(env.SUPERADMIN_EMAIL).toBe('root@example.com');
  });

  it('holds SUPERADMIN_PASSWORD to the password policy', () => {
    const superadmin = { MONGODB_URI: URI, SUPERADMIN_EMAIL: 'root@example.com' };
    expect(problemsOf({ ...superadmin, SUPERADMIN_PASSWORD: 'short' })).toMatch(/SUPERADMIN_PASSWORD: .*at least 8/);
    expect(problemsOf({ ...superadmin, SUPERADMIN_PASSWORD: 'p'.repeat(73) })).toMatch(
      /SUPERADMIN_PASSWORD: .*72 bytes/,
    );
  });

  it('treats empty strings as unset', () => {
    const env = validateEnvironment({
      MONGODB_URI: URI,
      PORT: '',
      JWT_SECRET: '',
      SUPERADMIN_EMAIL: '',
      SUPERADMIN_PASSWORD: '',
    });
    expect(env).toMatchObject({ PORT: 3000 });
    expect(env.JWT_SECRET).toBeUndefined();
    expect(env.SUPERADMIN_EMAIL).toBeUndefined();
    expect(problemsOf({ MONGODB_URI: '' })).toMatch(/MONGODB_URI/);
  });

  it('reports every problem at once', () => {
    const message = problemsOf({
      NODE_ENV: 'production',
      BCRYPT_COST: '4',
      TENANCY_MODE: 'nope',
      SUPERADMIN_EMAIL: 'root@example.com',
    });
    for (const field of ['MONGODB_URI', 'BCRYPT_COST', 'TENANCY_MODE', 'JWT_SECRET', 'SUPERADMIN_PASSWORD']) {
      expect(message).toContain(field);
    }
    expect(message.split('\n - ')).toHaveLength(1 + 5);
  });
});
