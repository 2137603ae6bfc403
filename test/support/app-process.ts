import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

/**
 * The real service as a separate Node process, for tests that must kill it (SIGKILL) where no
 * in-process app can be: nothing of it runs after the signal, exactly as in a crash.
 *
 * It runs `node -r ts-node/register/transpile-only src/main.ts` rather than `node dist/main.js`:
 * - it runs the sources as they are now, with nothing to build first; dist/ may be stale;
 * - it writes nothing: `nest build` empties and rewrites the shared dist/ (deleteOutDir), which
 *   would break anyone running from it at the same time and race with their builds;
 * - it starts in about 1.5 s (transpiling only, no type check), so a test can afford two processes.
 * The only difference from the build is that the @nestjs/swagger CLI plugin is not applied, which
 * changes the OpenAPI document only, never the API's behaviour.
 *
 * The process runs in an empty temporary directory, so that a `.env` in the project root cannot
 * change its settings: its environment is exactly what the test gives (plus PATH).
 */

const PROJECT_ROOT = join(__dirname, '..', '..');
const MAIN = join(PROJECT_ROOT, 'src', 'main.ts');
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;
const OUTPUT_TAIL_CHARS = 64_000;
/** Set in the child only: makes this file, preloaded there, watch for the test process going away. */
const WATCH_PARENT = 'APP_PROCESS_EXIT_WITH_PARENT';

// Preloaded into the app's process (-r): the OS closes our stdin pipe when the test process dies in
// any way, even by SIGKILL, and the app then exits too instead of outliving the test run.
if (process.env[WATCH_PARENT] === '1') {
  delete process.env[WATCH_PARENT];
  process.stdin.on('data', () => undefined);
  process.stdin.on('end', () => process.exit(1));
  process.stdin.on('error', () => process.exit(1));
}

export interface AppProcess {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it wrote to stdout and stderr (the last 64 kB). */
  output(): string;
  /** Sends the signal and waits for the process to be gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (a graceful shutdown), then SIGKILL after 5 s. Safe to call more than once. */
  stop(): Promise<void>;
}

const running = new Set<AppProcess>();

/**
 * Starts the app on a free loopback port with exactly `env` (plus HOST, PORT and PATH), and
 * resolves once GET /health/ready answers 200. Fails with the process's output if it exits first
 * or is not ready within 60 s.
 */
export async function startAppProcess(env: Record<string, string>): Promise<AppProcess> {
  const port = await freePort();
  const cwd = mkdtempSync(join(tmpdir(), 'org-service-app-'));
  const child = spawn(
    process.execPath,
    ['-r', require.resolve('ts-node/register/transpile-only'), '-r', __filename, MAIN],
    {
      cwd,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        TS_NODE_PROJECT: join(PROJECT_ROOT, 'tsconfig.json'),
        [WATCH_PARENT]: '1',
        ...env,
        HOST: '127.0.0.1',
        PORT: String(port),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => {
      keep(Buffer.from(`spawn failed: ${error.message}\n`));
      resolve({ code: null, signal: null });
    });
  });
  void exited.then(() => rmSync(cwd, { recursive: true, force: true }));

  const isGone = () => child.exitCode !== null || child.signalCode !== null;
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (!isGone()) {
      child.kill(signal);
    }
    await exited;
  };
  let stopping: Promise<void> | undefined;
  const app: AppProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? -1,
    child,
    exited,
    output: () => output,
    kill,
    stop: () =>
      (stopping ??= (async () => {
        if (isGone()) {
          return;
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await kill('SIGTERM');
        clearTimeout(timer);
      })()),
  };
  running.add(app);
  void exited.then(() => running.delete(app));

  try {
    await waitUntilReady(app);
  } catch (error) {
    await app.stop();
    throw error;
  }
  return app;
}

/** Stops every app process still running: for afterEach/afterAll, so that none outlives a failed test. */
export async function stopAllAppProcesses(): Promise<void> {
  await Promise.all([...running].map((app) => app.stop()));
}

async function waitUntilReady(app: AppProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exitedEarly = false;
  void app.exited.then(() => (exitedEarly = true));
  for (;;) {
    if (exitedEarly) {
      throw new Error(`The app process exited before it was ready:\n${app.output()}`);
    }
    try {
      const response = await fetch(`${app.url}/health/ready`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) {
        return;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`The app process was not ready within ${READY_TIMEOUT_MS} ms:\n${app.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
