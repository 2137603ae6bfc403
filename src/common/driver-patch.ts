import { readFileSync } from 'node:fs';

/** A line of patches/mongodb+*.patch: present only where the fix was applied. */
const PATCH_MARKER = 'A destroyed socket takes the write with neither';
const PATCHED_FILE = 'mongodb/lib/cmap/connection.js';

export const DRIVER_NOT_PATCHED =
  'The installed mongodb driver lacks the fix in patches/ (without it, an operation can hang for good when ' +
  'a connection closes): run `npm ci` again, and update the patch if it no longer applies';

/**
 * Refuses to start without the driver fix: an install whose patch failed outside CI, or an image
 * built from such a tree, would otherwise run and hang on the first closed connection.
 */
export function assertDriverPatched(file = require.resolve(PATCHED_FILE)): void {
  if (!readFileSync(file, 'utf8').includes(PATCH_MARKER)) {
    throw new Error(DRIVER_NOT_PATCHED);
  }
}
