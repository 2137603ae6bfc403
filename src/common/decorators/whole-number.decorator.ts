import { Transform } from 'class-transformer';

/**
 * Only plain decimal digits become a number; anything else (`1e3`, `0x10`, a repeated query key)
 * stays as it came and fails @IsInt.
 */
export function WholeNumber(): PropertyDecorator {
  return Transform(({ value }) => (typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value));
}
