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

  /** @example "Conflict" */
  title: string;

  /** @example 409 */
  status: number;

  /** @example "Organization already exists" */
  detail: string;

  /** @example "/org/create" */
  instance: string;

  /** Only on validation failures. */
  @ApiProperty({ type: [FieldErrorDto], required: false })
  errors?: FieldErrorDto[];
}
