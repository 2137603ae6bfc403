import { ApiProperty } from '@nestjs/swagger';

export class FieldErrorDto {
  /** @example "email" */
  field: string;

  /** @example "email must be an email" */
  message: string;
}

/** RFC 9457 problem details, sent as application/problem+json. */
export class ProblemDetailsDto {
  /** @example "about:blank" */
  type: string;

  /** The status's reason phrase. @example "Not Found" */
  title: string;

  /** @example 404 */
  status: number;

  /** @example "Organization not found" */
  detail: string;

  /** The request's path. @example "/org/get" */
  instance: string;
}

/** A 400's problem details: `errors` lists the broken field rules when validation failed. */
export class ValidationProblemDetailsDto extends ProblemDetailsDto {
  /** Only on validation failures. */
  @ApiProperty({ type: [FieldErrorDto], required: false })
  errors?: FieldErrorDto[];
}
