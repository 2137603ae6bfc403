import { mongo } from 'mongoose';

const DUPLICATE_KEY = 11000;
const NAMESPACE_NOT_FOUND = 26;

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

export function isDatabaseUnavailableError(error: unknown): boolean {
  return (
    error instanceof Error && (UNAVAILABLE_ERROR_NAMES.has(error.name) || error instanceof mongo.MongoNetworkError)
  );
}

export function isNamespaceNotFoundError(error: unknown): boolean {
  return error instanceof mongo.MongoServerError && error.code === NAMESPACE_NOT_FOUND;
}
