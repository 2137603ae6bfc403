import { isNativeError } from 'node:util/types';
import { mongo } from 'mongoose';

export const DUPLICATE_KEY = 11000;
const NAMESPACE_NOT_FOUND = 26;
const NAMESPACE_EXISTS = 48;

/** Errors that mean "the database cannot be reached right now", as opposed to a bad request. */
const UNAVAILABLE_ERROR_NAMES = new Set([
  'MongooseServerSelectionError',
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoServerClosedError',
  // Timeouts: an operation past its deadline (database/operation-deadline.ts, as the driver's own
  // client-side timeout names it), past waitQueueTimeoutMS for a pooled connection, or cut off when
  // the server monitor's check timed out.
  'MongoOperationTimeoutError',
  'MongoWaitQueueTimeoutError',
  'PoolClearedOnNetworkError',
]);

export function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof mongo.MongoServerError && error.code === DUPLICATE_KEY;
}

/**
 * Socket errors the driver (7.x) sometimes lets through raw when the server has just closed a
 * connection, instead of wrapping them in a MongoNetworkError.
 */
const RAW_SOCKET_ERROR_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ERR_STREAM_DESTROYED']);

export function isDatabaseUnavailableError(error: unknown): boolean {
  // isNativeError, not instanceof: Node's own socket errors may come from another realm (Jest's sandbox).
  if (isNativeError(error) && RAW_SOCKET_ERROR_CODES.has(String((error as NodeJS.ErrnoException).code))) {
    return true;
  }
  const wrapped = bulkWriteFailure(error);
  if (wrapped !== undefined) {
    return isDatabaseUnavailableError(wrapped);
  }
  return (
    error instanceof Error && (UNAVAILABLE_ERROR_NAMES.has(error.name) || error instanceof mongo.MongoNetworkError)
  );
}

/**
 * The error that stopped a bulk write (also insertMany) before any document was refused: the driver
 * wraps it, a timeout or a network error as well, in a MongoBulkWriteError of no write errors, and
 * keeps it as the wrapper's `errorResponse`.
 */
function bulkWriteFailure(error: unknown): Error | undefined {
  if (!(error instanceof mongo.MongoBulkWriteError) || [error.writeErrors].flat().length > 0) {
    return undefined;
  }
  const wrapped: unknown = error.errorResponse;
  return (isNativeError(wrapped) || wrapped instanceof Error) && wrapped !== error ? wrapped : undefined;
}

export function isNamespaceNotFoundError(error: unknown): boolean {
  return error instanceof mongo.MongoServerError && error.code === NAMESPACE_NOT_FOUND;
}

/** A rename onto a collection that exists (mongo-java-server says so in words only). */
export function isNamespaceExistsError(error: unknown): boolean {
  return (
    error instanceof mongo.MongoServerError &&
    (error.code === NAMESPACE_EXISTS || /target namespace exists/i.test(error.message))
  );
}
