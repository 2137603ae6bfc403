import {
  ConflictException,
  ForbiddenException,
  HttpException,
  HttpStatus,
  MethodNotAllowedException,
  NotFoundException,
  PayloadTooLargeException,
  UnauthorizedException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { getSchemaPath, HeaderObject } from '@nestjs/swagger';
import { mongo } from 'mongoose';
import { ProblemDetailsDto, ValidationProblemDetailsDto } from '../dto/problem-details.dto';
import { toProblem } from '../problem-details';
import { validationFailed } from '../validation';

export const PROBLEM_JSON = 'application/problem+json';

/** The error statuses of the API contract, each as the document describes it. */
export type ProblemStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 429 | 503;

interface ProblemKind {
  description: string;
  /**
   * What the server throws in the typical case: the example is what the server writes for it. The
   * feature-specific ones (its messages) are given by the operations themselves.
   */
  typical: unknown;
  /** Retry-After on every such answer, or on some only. */
  retryAfter?: 'always' | 'sometimes';
}

const PROBLEMS: Record<ProblemStatus, ProblemKind> = {
  400: {
    description: 'Malformed JSON, wrong type, unknown field or failed validation',
    typical: validationFailed([{ field: 'email', message: 'email must be an email' }]),
  },
  401: {
    description: 'Missing, malformed, expired or revoked token, or wrong credentials',
    typical: new UnauthorizedException(),
  },
  403: {
    description: 'Valid token, but not allowed on this organization',
    typical: new ForbiddenException(),
  },
  404: { description: 'No organization of that name', typical: new NotFoundException() },
  405: {
    description: 'A documented path asked with a method it does not serve; Allow lists the ones it does',
    typical: new MethodNotAllowedException('PATCH is not allowed here; use POST'),
  },
  409: {
    description:
      'Duplicate organization name or admin email; or the organization is busy, or its name was just given up ' +
      'and is still reserved (both with Retry-After)',
    typical: new ConflictException(),
    retryAfter: 'sometimes',
  },
  413: { description: 'Request body too large', typical: new PayloadTooLargeException('Request body is too large') },
  415: {
    description: 'A body that is neither JSON nor a form (e.g. text/plain)',
    typical: new UnsupportedMediaTypeException('Unsupported Media Type'),
  },
  429: {
    description: 'Too many attempts; retry after the Retry-After delay',
    typical: new HttpException({ message: 'Too Many Requests', retryAfterSeconds: 60 }, HttpStatus.TOO_MANY_REQUESTS),
    retryAfter: 'always',
  },
  503: {
    description: 'Database unreachable; retry after the Retry-After delay',
    typical: new mongo.MongoNetworkError('connection refused'),
    retryAfter: 'always',
  },
};

export function isProblemStatus(status: number): status is ProblemStatus {
  return status in PROBLEMS;
}

export function typicalProblem(status: ProblemStatus): unknown {
  return PROBLEMS[status].typical;
}

/**
 * The documented answer for `status`, with `exception` (what the server throws) as its one example.
 * The example's `instance` is left empty: finishDocument() sets it to each operation's path.
 */
export function problemResponse(status: ProblemStatus, exception: unknown, headers: Record<string, HeaderObject> = {}) {
  const { body, retryAfterSeconds } = toProblem(exception, '');
  const { description, retryAfter } = PROBLEMS[status];
  const schema = status === HttpStatus.BAD_REQUEST ? ValidationProblemDetailsDto : ProblemDetailsDto;
  if (retryAfter) {
    headers = {
      ...headers,
      'Retry-After': {
        description: 'Seconds to wait before retrying',
        required: retryAfter === 'always',
        schema: { type: 'integer', minimum: 1 },
        example: retryAfterSeconds ?? 1,
      },
    };
  }
  return {
    status,
    description,
    ...(Object.keys(headers).length > 0 && { headers }),
    content: { [PROBLEM_JSON]: { schema: { $ref: getSchemaPath(schema) }, example: body } },
  };
}
