import { randomBytes } from 'node:crypto';

/** 8 hex digits, to make names, emails and database names unique to one test. */
export function randomSuffix(): string {
  return randomBytes(4).toString('hex');
}
