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
  return (
    error instanceof Error && (UNAVAILABLE_ERROR_NAMES.has(error.name) || error instanceof mongo.MongoNetworkError)
  );
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
