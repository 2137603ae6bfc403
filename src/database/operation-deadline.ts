import { isNativeError } from 'node:util/types';
import { mongo } from 'mongoose';
import { isDatabaseUnavailableError } from '../common/mongo-errors';

/**
 * One deadline for every operation of a MongoClient, from the moment it is asked for to its answer:
 * server selection, the wait for a pooled connection, a new connection's handshake, writing the
 * command, reading the answer, and the driver's own retry, all within `timeoutMs`. When it passes, the
 * operation fails with a MongoOperationTimeoutError, and the connection it was using is closed (its
 * answer, should one still come, would belong to no one).
 *
 * This is what the driver's client-side operation timeout (`timeoutMS`, CSOT) did; driver 7 has
 * deprecated it and made it a no-op (see `resolveOptions` in node_modules/mongodb/lib/utils.js:
 * "timeoutMS is a no-op"). What is left is the `signal` an operation may carry, which the driver
 * honours at every stage (server selection, connection checkout, socket write and read) and which it
 * answers by closing the connection. No caller (Mongoose, our own code) passes one, so the
 * deadline gives every operation its own, at the one place all of them go through: the driver's
 * `executeOperation`. Bulk writes go through it batch by batch, cursors command by command (each
 * getMore has its own deadline).
 *
 * The same clients get only driver errors from their operations: a socket error the driver lets
 * through raw (a write to a connection the server has just reset) comes out as the
 * MongoNetworkError it is, so that every caller sees the database unavailable, not some error.
 *
 * Other clients in the process (a test's own) are left alone: only clients handed to
 * `limitOperations` get a deadline.
 */

interface DriverOperation {
  options: { signal?: AbortSignal } & Record<string, unknown>;
  readonly commandName?: string;
}

type ExecuteOperation = (
  client: mongo.MongoClient,
  operation: DriverOperation,
  timeoutContext?: unknown,
) => Promise<unknown>;

/** The driver module every operation goes through; internal to the driver, so checked before use. */
interface ExecutionModule {
  executeOperation: ExecuteOperation;
  [DEADLINES]?: WeakMap<mongo.MongoClient, number>;
}

/** Registry-wide, so that the hook is installed once even if this file were loaded twice. */
const DEADLINES = Symbol.for('org-management-service.operation-deadlines');

/** Gives every operation `client` runs from now on a deadline of `timeoutMs`. */
export function limitOperations(client: mongo.MongoClient, timeoutMs: number): void {
  deadlines().set(client, timeoutMs);
}

/** The deadline `client`'s operations run under, if any. */
export function operationDeadlineOf(client: mongo.MongoClient): number | undefined {
  return deadlines().get(client);
}

function deadlines(): WeakMap<mongo.MongoClient, number> {
  const execution = executionModule();
  return (execution[DEADLINES] ??= hook(execution));
}

function executionModule(): ExecutionModule {
  const driver = require('mongodb') as typeof mongo;
  const execution = require('mongodb/lib/operations/execute_operation') as ExecutionModule;
  if (driver.MongoClient !== mongo.MongoClient || typeof execution.executeOperation !== 'function') {
    // A driver upgrade moved its entry point, or Mongoose brought a driver of its own: without the
    // deadline, a silent database would hold requests for as long as its sockets stay open.
    throw new Error('Cannot bound database operations: the MongoDB driver has no executeOperation where expected');
  }
  return execution;
}

function hook(execution: ExecutionModule): WeakMap<mongo.MongoClient, number> {
  const limits = new WeakMap<mongo.MongoClient, number>();
  const original = execution.executeOperation;
  execution.executeOperation = function executeWithinDeadline(client, operation, timeoutContext) {
    const timeoutMs = limits.get(client);
    if (timeoutMs === undefined) {
      return original(client, operation, timeoutContext);
    }
    return withinDeadline(timeoutMs, operation, () => original(client, operation, timeoutContext));
  };
  return limits;
}

async function withinDeadline<T>(timeoutMs: number, operation: DriverOperation, run: () => Promise<T>): Promise<T> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(timeoutError(operation, timeoutMs)), timeoutMs);
  const own = operation.options.signal;
  // A copy: an operation's options may be shared with the cursor or bulk write it belongs to.
  operation.options = { ...operation.options, signal: own ? AbortSignal.any([own, deadline.signal]) : deadline.signal };
  const running = run().catch((error: unknown) => {
    throw asDriverError(error);
  });
  // Answered by the deadline below, the operation may still fail afterwards: that is no news.
  running.catch(() => undefined);
  // The driver ends the operation on the signal, but not at every stage at once (a retry's server
  // selection begun with the signal already aborted waits out serverSelectionTimeoutMS): the
  // caller has its answer at the deadline whatever the driver is doing. Nothing it does after is
  // sent: every command checks the signal before it is written.
  const expired = new Promise<never>((_, reject) =>
    deadline.signal.addEventListener('abort', () => reject(deadline.signal.reason as Error), { once: true }),
  );
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** A raw socket error (ECONNRESET, EPIPE...) as the driver's network error; any other error as it is. */
export function asDriverError(error: unknown): unknown {
  if (error instanceof mongo.MongoError || !isNativeError(error) || !isDatabaseUnavailableError(error)) {
    return error;
  }
  return new mongo.MongoNetworkError(error.message, { cause: error });
}

function timeoutError(operation: DriverOperation, timeoutMs: number): mongo.MongoOperationTimeoutError {
  const name = operation.commandName ?? 'operation';
  return new mongo.MongoOperationTimeoutError(`Database ${name} did not complete within ${timeoutMs} ms`);
}
