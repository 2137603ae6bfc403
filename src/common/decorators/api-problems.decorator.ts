import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import { ProblemDetailsDto } from '../dto/problem-details.dto';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed JSON, wrong type, unknown field or failed validation',
  401: 'Missing, malformed, expired or revoked token, or wrong credentials',
  403: 'Valid token, but not allowed on this organization',
  404: 'No organization of that name',
  409: 'Duplicate organization name or admin email; or the organization is busy, or its name was just given up and is still reserved (both with Retry-After)',
  413: 'Request body too large',
  429: 'Too many attempts; retry after the Retry-After delay',
  503: 'Database unreachable; retry after the Retry-After delay',
};

/** Documents the problem+json error responses an endpoint can answer, besides the common ones. */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDto),
    ...[...new Set([...statuses, 503])].map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status] ?? STATUS_CODES[status],
        content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetailsDto) } } },
      }),
    ),
  );
}
