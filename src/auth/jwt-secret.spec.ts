import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVELOPMENT_SECRET_FILE, JwtSecret } from './jwt-secret';

const CONFIGURED = 'a-configured-secret-that-is-long-enough-for-production';
const POSIX = process.platform !== 'win32';

describe('JwtSecret.resolve', () => {
  let root: string;
  let dataDirectory: string;
  let logger: { log: jest.Mock; warn: jest.Mock };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'jwt-secret-'));
    dataDirectory = join(root, 'nested', '.data');
    logger = { log: jest.fn(), warn: jest.fn() };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const resolve = (nodeEnv: string, configured?: string) =>
    JwtSecret.resolve(configured, nodeEnv, dataDirectory, logger);
  const file = () => join(dataDirectory, DEVELOPMENT_SECRET_FILE);

  it('uses a configured JWT_SECRET as it is, in every environment, and writes nothing', () => {
    for (const nodeEnv of ['development', 'test', 'production']) {
      expect(resolve(nodeEnv, CONFIGURED)).toBe(CONFIGURED);
    }
    expect(existsSync(dataDirectory)).toBe(false);
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('in development, creates the directory and a secret file readable by its owner only', () => {
    const secret = resolve('development');
    expect(secret.length).toBeGreaterThanOrEqual(48);
    expect(readFileSync(file(), 'utf8').trim()).toBe(secret);
    if (POSIX) {
      expect(statSync(file()).mode & 0o777).toBe(0o600);
    }
    expect(readdirSync(dataDirectory)).toEqual([DEVELOPMENT_SECRET_FILE]);
    expect(logger.log).toHaveBeenCalledWith(expect.stringContaining('created a development secret'));
  });

  it('in development, reads the kept secret back at the next start, so tokens survive a restart', () => {
    const first = resolve('development');
    const second = resolve('development');
    expect(second).toBe(first);
    expect(logger.log).toHaveBeenLastCalledWith(expect.stringContaining('using the development secret kept in'));
  });

  it('tightens a kept secret file that others could read', () => {
    const secret = resolve('development');
    if (!POSIX) {
      return;
    }
    chmodSync(file(), 0o644);
    expect(resolve('development')).toBe(secret);
    expect(statSync(file()).mode & 0o777).toBe(0o600);
  });

  it('replaces an empty or truncated secret file with a new secret', () => {
    resolve('development');
    writeFileSync(file(), 'short\n');
    const replaced = resolve('development');
    expect(replaced).not.toBe('short');
    expect(replaced.length).toBeGreaterThanOrEqual(48);
    expect(readFileSync(file(), 'utf8').trim()).toBe(replaced);
    expect(resolve('development')).toBe(replaced);
  });

  it('falls back to a random secret, with a warning, when the file cannot be written', () => {
    writeFileSync(join(root, 'not-a-directory'), '');
    const blocked = join(root, 'not-a-directory', '.data');
    const secret = JwtSecret.resolve(undefined, 'development', blocked, logger);
    expect(secret.length).toBeGreaterThanOrEqual(48);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('cannot be kept'));
  });

  it('with NODE_ENV=test, uses a random secret per process and writes nothing', () => {
    const first = resolve('test');
    const second = resolve('test');
    expect(first).not.toBe(second);
    expect(existsSync(dataDirectory)).toBe(false);
    expect(existsSync(root) && readdirSync(root)).toEqual([]);
  });

  it('never makes up a secret in production', () => {
    expect(() => resolve('production')).toThrow(/JWT_SECRET/);
    expect(existsSync(dataDirectory)).toBe(false);
  });
});
