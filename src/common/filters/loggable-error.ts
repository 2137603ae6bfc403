import { isNativeError } from 'node:util/types';

interface LoggableError {
  type: string;
  message: string;
  stack?: string;
  code?: unknown;
  codeName?: unknown;
  /** The driver's labels, such as RetryableWriteError. */
  errorLabels?: string[];
  cause?: LoggableError;
}

const MAX_CAUSE_DEPTH = 3;

/**
 * What an unexpected error may put in the log: its kind, message, stack and codes, and those of its
 * causes. Not its other properties: the driver's errors carry the documents they were about
 * (writeErrors, keyValue, errInfo), which are tenant data.
 */
export function loggableError(error: unknown, depth = 0): LoggableError {
  if (!isNativeError(error)) {
    // Object.prototype.toString, not String(): an object without a prototype has no toString.
    const message = typeof error === 'object' && error !== null ? Object.prototype.toString.call(error) : String(error);
    return { type: typeof error, message };
  }
  const { code, codeName, errorLabels, cause } = error as Error & {
    code?: unknown;
    codeName?: unknown;
    errorLabels?: unknown;
  };
  return {
    type: error.name,
    message: error.message,
    stack: error.stack,
    ...(code !== undefined && { code }),
    ...(codeName !== undefined && { codeName }),
    ...(Array.isArray(errorLabels) && errorLabels.length > 0 && { errorLabels }),
    ...(cause !== undefined && depth < MAX_CAUSE_DEPTH && { cause: loggableError(cause, depth + 1) }),
  };
}
