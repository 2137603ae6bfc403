import { Logger } from '@nestjs/common';
import cluster, { Worker } from 'node:cluster';
import { isWorkerInvalidation } from './state-cache/invalidation-channel';

/** A worker that dies this soon after its start is failing to start: replacing it would only loop. */
const MIN_WORKER_LIFE_MS = 10_000;

/**
 * WEB_CONCURRENCY > 1: this process forks that many workers that share its port (node:cluster) and
 * runs no app itself. The first worker starts alone (it seeds the superadmin and builds indexes),
 * the others once it listens. It passes each worker's cache invalidations on to the others, replaces
 * a worker that dies, and on SIGINT or SIGTERM stops them all, then exits.
 */
export function runWorkers(count: number): void {
  const logger = new Logger('Workers');
  let stopping = false;

  const fork = (): Worker => {
    const worker = cluster.fork();
    const startedAt = Date.now();
    worker.on('message', (message: unknown) => {
      if (isWorkerInvalidation(message)) {
        for (const other of Object.values(cluster.workers ?? {})) {
          if (other && other !== worker && other.isConnected()) {
            other.send(message);
          }
        }
      }
    });
    worker.on('exit', (code, signal) => {
      if (stopping) {
        return;
      }
      if (Date.now() - startedAt < MIN_WORKER_LIFE_MS) {
        // Its own output says why; the others would fail the same way.
        stopAll(code ?? 1);
        return;
      }
      logger.warn(`Worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`);
      fork();
    });
    return worker;
  };

  const stopAll = (exitCode: number, signal: NodeJS.Signals = 'SIGTERM'): void => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
    if (workers.length === 0) {
      process.exit(exitCode);
    }
    let running = workers.length;
    for (const worker of workers) {
      worker.once('exit', () => {
        running -= 1;
        if (running === 0) {
          process.exit(exitCode);
        }
      });
      worker.process.kill(signal);
    }
  };

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => stopAll(0, signal));
  }
  fork().once('listening', () => {
    for (let started = 1; started < count && !stopping; started += 1) {
      fork();
    }
  });
}
