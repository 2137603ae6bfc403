import { isNativeError } from 'node:util/types';

export interface LoggableError {
  type: string;
  message: string;
  stack?: string;
  code?: unknown;
  codeName?: unknown;
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
    return { type: typeof error, message: String(error) };
  }
  const { code, codeName, cause } = error as Error & { code?: unknown; codeName?: unknown };
  return {
    type: error.name,
    message: error.message,
    stack: error.stack,
    ...(code !== undefined && { code }),
    ...(codeName !== undefined && { codeName }),
    ...(cause !== undefined && depth < MAX_CAUSE_DEPTH && { cause: loggableError(cause, depth + 1) }),
  };
}
