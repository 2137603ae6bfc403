import { storageNameForSlug } from './storage-names';
import { Tenant, TenantStorage } from './tenant';
import { Organization } from './schemas/organization.schema';

type OrganizationStorageFields = Pick<Organization, '_id' | 'slug' | 'entities'>;

/** An organization as the tenancy layer sees it; its storage name comes from the validated slug only. */
export function tenantOf(organization: OrganizationStorageFields): Tenant {
  return { id: organization._id.toString(), ...storageOf(organization.slug, organization.entities) };
}

export function storageOf(slug: string, entities: readonly string[]): TenantStorage {
  return { storageName: storageNameForSlug(slug), entities };
}
