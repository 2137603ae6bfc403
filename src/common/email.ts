/**
 * The one form in which emails are stored and compared: NFKC first, so that look-alike spellings of
 * one address (composed or decomposed accents, full-width letters) are one address, then trimmed
 * and lower-cased.
 */
export function normalizeEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

/** class-transformer's form of normalizeEmail, for DTOs: anything but a string is left to the validators. */
export const toNormalizedEmail = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? normalizeEmail(value) : value;
