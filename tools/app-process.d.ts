import { ChildProcess } from 'node:child_process';

export interface AppProcess {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (and its output has been read), however it ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it wrote to stdout and stderr (the last 64 kB). */
  output(): string;
  /** Sends the signal (SIGKILL by default: a crash) and waits for the process to be gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (a graceful shutdown), then SIGKILL after a delay (5 s). Safe to call more than once. */
  stop(): Promise<void>;
}

export interface AppProcessOptions {
  /** spawnAppProcess only: the working directory, kept afterwards; a temporary one by default. */
  cwd?: string;
  /** How long GET /health/ready may take to answer 200; 60 s by default. */
  readyTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL; 5 s by default. */
  stopTimeoutMs?: number;
  /** Also write the app's stdout and stderr to ours as they come. */
  echo?: boolean;
  /** spawnAppProcess only: what to run instead of dist/main.js, such as tools/start.js (`npm start`). */
  script?: string;
}

/**
 * Starts `node dist/main.js` on a free loopback port with exactly `env` (plus PATH, HOST and PORT),
 * in an empty temporary directory, and resolves once GET /health/ready answers 200. Fails with the
 * process's output if it exits first or is not ready in time.
 */
export function startAppProcess(env: Record<string, string>, options?: AppProcessOptions): Promise<AppProcess>;
/** Starts `node dist/main.js` with exactly `env` (plus PATH) and returns at once, without waiting for it. */
export function spawnAppProcess(env: Record<string, string>, options?: AppProcessOptions): AppProcess;
/** Stops every app process started here that is still running. */
export function stopAllAppProcesses(): Promise<void>;
/** The absolute path of dist/main.js. */
export const MAIN: string;
