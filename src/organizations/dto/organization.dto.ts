import { TenancyMode } from '../../config/environment';

export class StorageDto {
  /** @example "collection" */
  mode: TenancyMode;

  /** The collection (collection mode) or database (database mode) holding the tenant's data. @example "org_acme_corp" */
  name: string;
}

export class OrganizationDto {
  /** @example "665f1c2e8b3e4a1d2c3b4a58" */
  organization_id: string;

  /** @example "Acme Corp" */
  organization_name: string;

  /** @example "acme_corp" */
  slug: string;

  /** @example "org_acme_corp" */
  collection_name: string;

  storage: StorageDto;

  /** @example "665f1c2e8b3e4a1d2c3b4a59" */
  admin_id: string;

  /** Only for the organization's own admin or a superadmin. @example "admin@acme.com" */
  admin_email?: string;

  /** @example true */
  is_active: boolean;

  /** @example "2026-01-01T10:30:00.000Z" */
  created_at: Date;

  /** @example "2026-01-01T10:30:00.000Z" */
  updated_at: Date;
}

export class OrganizationEnvelopeDto {
  /** @example true */
  success: boolean;

  /** @example "Organization created successfully" */
  message: string;

  data: OrganizationDto;
}

export class OrganizationPageDto {
  items: OrganizationDto[];

  /** @example 1 */
  page: number;

  /** @example 20 */
  limit: number;

  /** @example 42 */
  total: number;
}

export class OrganizationPageEnvelopeDto {
  /** @example true */
  success: boolean;

  /** @example "Organizations retrieved successfully" */
  message: string;

  data: OrganizationPageDto;
}

export class DeletedOrganizationDto {
  /** @example "Acme Corp" */
  organization_name: string;

  /** The storage that was removed (collection or database). @example "org_acme_corp" */
  deleted_collection: string;
}

export class DeletedOrganizationEnvelopeDto {
  /** @example true */
  success: boolean;

  /** @example "Organization deleted successfully" */
  message: string;

  data: DeletedOrganizationDto;
}
