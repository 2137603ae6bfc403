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
/** What String.prototype.trim removes, spelled out: `\s` means other things to other schema readers (Python's). */
const TRIMMED = String.raw`[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]`;
/**
 * The rule as the OpenAPI document states it, for the raw input: the name, trimmed, between any
 * whitespace (which is why it carries no minLength or maxLength of its own).
 */
const RAW_ORGANIZATION_NAME =
  `^${TRIMMED}*(?=[ ._-]*[A-Za-z0-9])[A-Za-z0-9._-]` +
  `[A-Za-z0-9 ._-]{${MIN_LENGTH - 2},${MAX_LENGTH - 2}}[A-Za-z0-9._-]${TRIMMED}*$`;

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
    ApiProperty({ type: String, pattern: RAW_ORGANIZATION_NAME }),
    Transform(({ value }) => (typeof value === 'string' ? value.trim() : value)),
    IsString(),
    Length(MIN_LENGTH, MAX_LENGTH),
    Matches(ORGANIZATION_NAME, {
      message: '$property may hold only letters, digits, spaces, "-", "_" and ".", and at least one letter or digit',
    }),
  );
}
