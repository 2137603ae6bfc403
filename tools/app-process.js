'use strict';
/**
 * Starts the built service (`node dist/main.js`) as a separate process and waits until it is ready:
 * shared by the e2e tests that must kill it (SIGKILL, where no in-process app can be: nothing of it
 * runs after the signal, exactly as in a crash), `npm run fuzz` and `npm run bench`.
 *
 *   const { startAppProcess } = require('./tools/app-process');
 *   const app = await startAppProcess({ MONGODB_URI, NODE_ENV: 'test' });
 *   // ... fetch(`${app.url}/health`)
 *   await app.stop();
 *
 * - It runs the build: `npm run build` first (`npm run test:e2e`, `npm run fuzz` and `npm run bench`
 *   do).
 * - Its environment is exactly the one given (plus PATH, and HOST=127.0.0.1 and a free PORT), and it
 *   runs in an empty temporary directory, so that neither the caller's environment nor a `.env` in
 *   the project root (main.ts loads `.env` from its working directory) can change its settings, and
 *   whatever it writes there (a development JWT secret in .data/) goes away with it.
 * - It exits with its parent, however the parent ends (even by SIGKILL): see WATCH_PARENT.
 * - It keeps the last 64 kB of the app's output, shown in every error.
 *
 * Plain CommonJS with Node built-ins only, like tools/local-mongo.js; types in app-process.d.ts.
 */

const { spawn } = require('node:child_process');
const { existsSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { freePort } = require('./local-mongo');

/**
 * Set in the child only, to its temporary working directory: makes this file, preloaded there (-r),
 * watch for the parent going away.
 */
const WATCH_PARENT = 'APP_PROCESS_EXIT_WITH_PARENT';
const CWD_PREFIX = 'org-service-app-';

// In the app's process: the OS closes our stdin pipe when the parent dies in any way, even by
// SIGKILL, and the app then exits too instead of outliving a test run or a script, removing the
// temporary working directory that the parent can no longer remove.
if (process.env[WATCH_PARENT]) {
  const directory = process.env[WATCH_PARENT];
  delete process.env[WATCH_PARENT];
  const orphaned = () => {
    if (path.dirname(directory) === tmpdir() && path.basename(directory).startsWith(CWD_PREFIX)) {
      rmSync(directory, { recursive: true, force: true });
    }
    process.exit(1);
  };
  process.stdin.on('data', () => undefined);
  process.stdin.on('end', orphaned);
  process.stdin.on('error', orphaned);
}

const ROOT = path.join(__dirname, '..');
const MAIN = path.join(ROOT, 'dist', 'main.js');
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;
const OUTPUT_TAIL_CHARS = 64_000;
/** A port picked free can be taken by someone else before the app binds it: then it is tried again. */
const START_ATTEMPTS = 3;

const running = new Set();

/**
 * Starts the app with exactly `env` (plus PATH, HOST and PORT) and resolves once GET /health/ready
 * answers 200. Fails with the process's output if it exits first or is not ready in time.
 *
 * @param {Record<string, string>} env
 * @param {{ readyTimeoutMs?: number, stopTimeoutMs?: number, echo?: boolean }} [options]
 *   echo: also write the app's stdout and stderr to ours as they come.
 */
async function startAppProcess(env, options = {}) {
  if (!existsSync(MAIN)) {
    throw new Error(
      `app-process: ${path.relative(process.cwd(), MAIN) || MAIN} is missing: run \`npm run build\` first`,
    );
  }
  for (let attempt = 1; ; attempt++) {
    const app = spawnAppProcess({ ...env, HOST: '127.0.0.1', PORT: String(await freePort()) }, options);
    try {
      await waitUntilReady(app, options.readyTimeoutMs ?? READY_TIMEOUT_MS);
      return app;
    } catch (error) {
      await app.stop();
      if (attempt >= START_ATTEMPTS || !/already in use/.test(app.output())) {
        throw error;
      }
    }
  }
}

/**
 * Starts the app with exactly `env` (plus PATH) and returns at once, for callers that watch it start
 * (or fail to). Runs in `options.cwd` if given, else in a temporary directory removed when it exits.
 */
function spawnAppProcess(env, { stopTimeoutMs = STOP_TIMEOUT_MS, echo = false, cwd: givenCwd, script = MAIN } = {}) {
  const cwd = givenCwd ?? mkdtempSync(path.join(tmpdir(), CWD_PREFIX));
  const child = spawn(process.execPath, ['-r', __filename, script], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env, [WATCH_PARENT]: cwd },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  if (echo) {
    child.stdout.on('data', (chunk) => process.stdout.write(chunk));
    child.stderr.on('data', (chunk) => process.stderr.write(chunk));
  }
  // Nothing is ever written to its stdin: it only tells the app that we are still here.
  child.stdin.on('error', () => undefined);
  // 'close' (unlike 'exit') comes after the last of its output has been read.
  const exited = new Promise((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => {
      keep(`app-process: spawn failed: ${error.message}\n`);
      resolve({ code: null, signal: null });
    });
  });
  if (!givenCwd) {
    void exited.then(() => rmSync(cwd, { recursive: true, force: true }));
  }

  const isGone = () => child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
  const kill = async (signal = 'SIGKILL') => {
    if (!isGone()) {
      child.kill(signal);
    }
    await exited;
  };
  let stopping;
  const port = Number(env.PORT);
  const app = {
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
          await exited;
          return;
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
        await kill('SIGTERM');
        clearTimeout(timer);
      })()),
  };
  running.add(app);
  void exited.then(() => running.delete(app));
  return app;
}

/** Stops every app process of ours still running: for afterEach/afterAll, so that none outlives a failed test. */
async function stopAllAppProcesses() {
  await Promise.all([...running].map((app) => app.stop()));
}

async function waitUntilReady(app, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let exitedEarly = false;
  void app.exited.then(() => (exitedEarly = true));
  for (;;) {
    if (exitedEarly) {
      throw new Error(`app-process: the app exited before it was ready:\n${app.output()}`);
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
      throw new Error(`app-process: the app was not ready within ${timeoutMs} ms:\n${app.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

module.exports = { startAppProcess, spawnAppProcess, stopAllAppProcesses, MAIN };
