import { createHash } from 'node:crypto';

const SLUG_PATTERN = /^[a-z0-9]+(_[a-z0-9]+)*$/;
const ENTITY_PATTERN = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
const STORAGE_PREFIX = 'org_';
/** MongoDB database names must stay under 64 bytes. */
const HASHED_NAME_LENGTH = 63;
const MAX_PLAIN_NAME_LENGTH = HASHED_NAME_LENGTH - 1;
/** 128 bits: finding another slug with the same storage name is out of reach. */
const HASH_LENGTH = 32;

/** In database mode this collection holds what collection mode keeps in `org_<slug>` itself. */
export const DEFAULT_DATABASE_COLLECTION = 'data';

/**
 * `org_<slug>`, or for very long slugs a shortened name ending in a hash of the slug. Plain names
 * are at most 62 bytes and hashed ones exactly 63, so the two forms can never collide.
 */
export function storageNameForSlug(slug: string): string {
  if (!SLUG_PATTERN.test(slug)) {
    throw new Error(`Refusing to derive a storage name from an invalid slug: ${JSON.stringify(slug)}`);
  }
  const plain = `${STORAGE_PREFIX}${slug}`;
  if (plain.length <= MAX_PLAIN_NAME_LENGTH) {
    return plain;
  }
  const hash = createHash('sha256').update(slug).digest('hex').slice(0, HASH_LENGTH);
  const kept = slug.slice(0, HASHED_NAME_LENGTH - STORAGE_PREFIX.length - HASH_LENGTH);
  return `${STORAGE_PREFIX}${kept}${hash}`;
}

/** Entity names may not contain `__`, which separates them from the slug in collection mode. */
export function assertValidEntityName(name: string): void {
  if (name.length > 40 || !ENTITY_PATTERN.test(name) || name === DEFAULT_DATABASE_COLLECTION) {
    throw new Error(
      `Invalid tenant entity name ${JSON.stringify(name)}: use 1 to 40 lower-case letters, digits and single ` +
        `underscores, starting with a letter, not "${DEFAULT_DATABASE_COLLECTION}"`,
    );
  }
}

/** Collection mode: `org_<slug>` for the default entity, `org_<slug>__<entity>` for the others. */
export function tenantCollectionName(storageName: string, entity: string | null): string {
  return entity === null ? storageName : `${storageName}__${entity}`;
}
