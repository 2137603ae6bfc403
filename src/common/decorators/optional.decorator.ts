import { ValidateIf } from 'class-validator';

/**
 * Like @IsOptional, but only an absent field is skipped: an explicit null is validated, and so
 * refused, rather than slipping through as "no value".
 */
export function Optional(): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined);
}
