import { ConflictException } from '@nestjs/common';
import { Schema } from 'mongoose';
import { assertValidEntityName } from './storage-names';
import { stampTenantDocuments } from './tenant-stamp';

export const TENANT_EXISTS = 'Organization already exists';
export const TENANT_NOT_FOUND = 'Organization not found';
export const TENANT_MOVED = 'Organization storage has moved since this request began; retry';
export const HANDLE_EXPIRED = 'This request held its organization storage for too long; retry';

/** A 409 that passes with time, so it says when to retry (a second: operations are short). */
export function retryLater(message: string, retryAfterSeconds = 1): ConflictException {
  return new ConflictException({ message, retryAfterSeconds });
}

/** The organization is busy with another create, rename or delete. */
export const tenantBusy = (): ConflictException => retryLater(TENANT_BUSY);
export const NAME_RESERVED = 'This organization name was just given up; it is reserved for a short while, retry later';
const TENANT_BUSY = 'Organization is being changed by another request; retry shortly';

/** An organization's life cycle; only an `active` one may have tenant data written. */
export enum TenantState {
  Creating = 'creating',
  Active = 'active',
  Renaming = 'renaming',
  Deleting = 'deleting',
  /** Gone, but its names stay reserved until any late write to them can no longer arrive. */
  Deleted = 'deleted',
}

/** What the tenancy layer needs to know about an organization to reach its storage. */
export interface TenantStorage {
  /** `org_<slug>`: a collection prefix in collection mode, a database in database mode. */
  readonly storageName: string;
  /** Entity names this tenant has used, as recorded on its organization document. */
  readonly entities: readonly string[];
}

/**
 * An organization's storage as one request may use it: bound to the organization's id and to the
 * storage generation read when the request was authorized (it changes whenever the storage moves or
 * goes), and usable for a bounded time from `authorizedAt` (TENANT_HANDLE_TTL_MS).
 */
export interface Tenant extends TenantStorage {
  readonly id: string;
  readonly generation: number;
  /** Date.now() when the organization record was read for this request. */
  readonly authorizedAt: number;
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
  stampTenantDocuments(schema as Schema);
  return { name, schema };
}

/** The entity names this process defines (the default collection's `null` left out). */
export function definedEntityNames(): string[] {
  return [...definedEntities].filter((name): name is string => name !== null);
}
