import { ValidateBy } from 'class-validator';

/** RFC 3339 `date-time` (what OpenAPI's `format: date-time` means), its letters in either case. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/**
 * The instant an RFC 3339 date-time names, or null for anything else. `new Date()` would take other
 * forms too (and read some in the server's own time zone), refuse a leap second, and read the years
 * 0000 to 0099 as 1900 onwards.
 */
export function parseDateTime(value: string): Date | null {
  const parts = DATE_TIME.exec(value);
  if (!parts) {
    return null;
  }
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number);
  const [offsetHours, offsetMinutes] = [Number(parts[9] ?? 0), Number(parts[10] ?? 0)];
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysIn(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 60 ||
    offsetHours > 23 ||
    offsetMinutes > 59
  ) {
    return null;
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  // A leap second is the last millisecond of its minute.
  const milliseconds = second === 60 ? 999 : Math.floor(Number(`0.${parts[7] ?? 0}`) * 1000);
  date.setUTCHours(hour, minute, Math.min(second, 59), milliseconds);
  const sign = parts[8] === '-' ? -1 : 1;
  return new Date(date.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000);
}

export function IsDateTime(): PropertyDecorator {
  return ValidateBy({
    name: 'isDateTime',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && parseDateTime(value) !== null,
      defaultMessage: (args) => `${args?.property} must be an RFC 3339 date-time, e.g. 2026-01-01T00:00:00Z`,
    },
  });
}
