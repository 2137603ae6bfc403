import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsString, Matches } from 'class-validator';

/** 2 to 64 ASCII letters, digits, spaces, `-`, `_` or `.`, at least one of them a letter or digit. */
const ORGANIZATION_NAME = /^(?=.*[A-Za-z0-9])[A-Za-z0-9 ._-]{2,64}$/;

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

export function IsOrganizationName(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }) => (typeof value === 'string' ? value.trim() : value)),
    IsString(),
    Matches(ORGANIZATION_NAME, {
      message:
        '$property must be 2 to 64 letters, digits, spaces, "-", "_" or ".", with at least one letter or digit',
    }),
  );
}
