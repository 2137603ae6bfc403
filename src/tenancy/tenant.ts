import { Schema } from 'mongoose';
import { assertValidEntityName } from './storage-names';

/** The master collection that records each tenant, its storage and the entities it has written. */
export const TENANT_REGISTRY_COLLECTION = 'organizations';

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

export function defineTenantEntity<T>(name: string | null, schema: Schema<T>): TenantEntity<T> {
  if (name !== null) {
    assertValidEntityName(name);
  }
  return { name, schema };
}
