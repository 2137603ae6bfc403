import { HttpException, HttpStatus } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { isDatabaseUnavailableError, isDuplicateKeyError } from './mongo-errors';

export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details, as every error of the API is written. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors?: FieldError[];
}

interface Problem {
  body: ProblemDetails;
  retryAfterSeconds?: number;
}

const DATABASE_RETRY_AFTER_SECONDS = 5;

export function toProblem(exception: unknown, instance: string): Problem {
  if (exception instanceof HttpException) {
    return fromHttpException(exception, instance);
  }
  if (isDuplicateKeyError(exception)) {
    return { body: problem(HttpStatus.CONFLICT, 'Resource already exists', instance) };
  }
  if (isDatabaseUnavailableError(exception)) {
    return {
      body: problem(HttpStatus.SERVICE_UNAVAILABLE, 'Database unavailable; retry shortly', instance),
      retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
    };
  }
  return { body: problem(HttpStatus.INTERNAL_SERVER_ERROR, 'An unexpected error occurred', instance) };
}

export function problem(status: number, detail: string, instance: string, errors?: FieldError[]): ProblemDetails {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    instance,
    ...(errors ? { errors } : {}),
  };
}

function fromHttpException(exception: HttpException, instance: string): Problem {
  const status = exception.getStatus();
  const response = exception.getResponse();
  if (typeof response === 'string') {
    return { body: problem(status, response, instance) };
  }
  const { message, errors, retryAfterSeconds } = response as {
    message?: unknown;
    errors?: FieldError[];
    retryAfterSeconds?: number;
  };
  const detail = typeof message === 'string' ? message : (STATUS_CODES[status] ?? 'Error');
  return { body: problem(status, detail, instance, errors), retryAfterSeconds };
}
