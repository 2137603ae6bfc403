import { BadRequestException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { isValidObjectId } from 'mongoose';
import { Role } from '../admins/schemas/admin.schema';
import type { AuthenticatedAdmin } from '../auth/authenticated-admin';
import { toSlug } from '../organizations/organization-name';
import { Organization } from '../tenancy/schemas/organization.schema';
import { tenantBusy, TENANT_NOT_FOUND, TenantState } from '../tenancy/tenant';
import { TenantRegistry } from '../tenancy/tenant-registry.service';

export const NOT_YOURS = 'You may only manage your own organization';
const OWNER_ONLY = "Only the organization's first admin or a superadmin may do this";

/** How a request names an organization: by name (the seed paths) or by id (`/api/v1`). */
export type OrganizationRef = { name: string } | { id: string };

/**
 * Who may manage an organization besides a superadmin: any of its admins (members, the audit
 * trail), or only its owner, the admin it was created with (its name, its owner's credentials, its
 * deletion).
 */
export enum Managers {
  Admins = 'admins',
  Owner = 'owner',
}

export function mayManage(organization: Organization, viewer: AuthenticatedAdmin | undefined, who: Managers): boolean {
  if (viewer?.role === Role.Superadmin) {
    return true;
  }
  return (
    viewer?.role === Role.Admin &&
    viewer.organization?.id === organization._id.toString() &&
    (who === Managers.Admins || !viewer.member)
  );
}

/** Finds the organization a request names and decides whether its caller may manage it. */
@Injectable()
export class OrganizationAccess {
  constructor(private readonly registry: TenantRegistry) {}

  async find(ref: OrganizationRef): Promise<Organization> {
    const organization =
      'id' in ref
        ? isValidObjectId(ref.id)
          ? await this.registry.findVisibleById(ref.id)
          : null
        : await this.registry.findVisibleBySlug(toSlug(ref.name));
    if (!organization) {
      throw new NotFoundException(TENANT_NOT_FOUND);
    }
    return organization;
  }

  /** 404 when it does not exist, 403 when it is not the caller's, 409 while it is busy. */
  async manageable(ref: OrganizationRef, viewer: AuthenticatedAdmin, who: Managers): Promise<Organization> {
    const organization = await this.find(ref);
    if (!mayManage(organization, viewer, who)) {
      const ownOrganization = viewer.organization?.id === organization._id.toString();
      throw new ForbiddenException(ownOrganization ? OWNER_ONLY : NOT_YOURS);
    }
    if (organization.state !== TenantState.Active) {
      throw tenantBusy();
    }
    return organization;
  }
}

export const NAME_THE_ORGANIZATION =
  'Name the organization with organization_name: a superadmin token has none of its own';

/** The organization a seed-style path names in its query, or else the caller's own. */
export function namedOrOwn(organizationName: string | undefined, viewer: AuthenticatedAdmin): OrganizationRef {
  if (organizationName !== undefined) {
    return { name: organizationName };
  }
  if (!viewer.organization) {
    throw new BadRequestException(NAME_THE_ORGANIZATION);
  }
  return { id: viewer.organization.id };
}
