import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Length, Matches } from 'class-validator';

const MIN_LENGTH = 2;
const MAX_LENGTH = 64;
/**
 * ASCII letters, digits, spaces, `-`, `_` and `.`, at least one of them a letter or digit. Written
 * so that matching stays linear on long hostile input (the length is checked separately).
 */
const ORGANIZATION_NAME = /^[ ._-]*[A-Za-z0-9][A-Za-z0-9 ._-]*$/;

/**
 * Names that differ only in case, spacing or punctuation share a slug, and so are one organization:
 * "Acme Corp", "acme-corp" and " ACME  corp. " are all `acme_corp`.
 */
export function toSlug(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** Validates a trimmed organization name, and documents the rule in the OpenAPI schema. */
export function IsOrganizationName(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ type: String, minLength: MIN_LENGTH, maxLength: MAX_LENGTH, pattern: ORGANIZATION_NAME.source }),
    Transform(({ value }) => (typeof value === 'string' ? value.trim() : value)),
    IsString(),
    Length(MIN_LENGTH, MAX_LENGTH),
    Matches(ORGANIZATION_NAME, {
      message: '$property may hold only letters, digits, spaces, "-", "_" and ".", and at least one letter or digit',
    }),
  );
}
