import { Schema } from 'mongoose';
import { assertValidEntityName } from './storage-names';

export const TENANT_EXISTS = 'Organization already exists';
export const TENANT_NOT_FOUND = 'Organization not found';
export const TENANT_BUSY = 'Organization is being changed by another request; retry shortly';

/** An organization's life cycle; only an `active` one may have tenant data written. */
export enum TenantState {
  Creating = 'creating',
  Active = 'active',
  Renaming = 'renaming',
  Deleting = 'deleting',
}

/** What the tenancy layer needs to know about an organization to reach its storage. */
export interface TenantStorage {
  /** `org_<slug>`: a collection prefix in collection mode, a database in database mode. */
  readonly storageName: string;
  /** Entity names this tenant has used, as recorded on its organization document. */
  readonly entities: readonly string[];
}

export interface Tenant extends TenantStorage {
  readonly id: string;
}

/**
 * A kind of tenant-owned document. `name: null` is the tenant's default collection
 * (`org_<slug>` in collection mode, `org_<slug>.data` in database mode).
 */
export interface TenantEntity<T = unknown> {
  readonly name: string | null;
  readonly schema: Schema<T>;
}

const definedEntities = new Set<string | null>();

/** Declares a tenant entity, once per name: two modules sharing a name would share a collection. */
export function defineTenantEntity<T>(name: string | null, schema: Schema<T>): TenantEntity<T> {
  if (name !== null) {
    assertValidEntityName(name);
  }
  if (definedEntities.has(name)) {
    throw new Error(`Tenant entity ${JSON.stringify(name)} is already defined`);
  }
  definedEntities.add(name);
  return { name, schema };
}
