import { storageNameForSlug } from './storage-names';
import { Tenant, TenantStorage } from './tenant';
import { Organization } from './schemas/organization.schema';

type OrganizationStorageFields = Pick<Organization, '_id' | 'slug' | 'entities' | 'storage_generation'>;

/**
 * An organization as the tenancy layer sees it, as of now; its storage name comes from the validated
 * slug only.
 */
export function tenantOf(organization: OrganizationStorageFields): Tenant {
  return {
    id: organization._id.toString(),
    generation: organization.storage_generation,
    authorizedAt: Date.now(),
    ...storageOf(organization.slug, organization.entities),
  };
}

export function storageOf(slug: string, entities: readonly string[]): TenantStorage {
  return { storageName: storageNameForSlug(slug), entities };
}
