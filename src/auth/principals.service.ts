import { Injectable } from '@nestjs/common';
import { AdminsService } from '../admins/admins.service';
import { Role } from '../admins/schemas/admin.schema';
import { MembersService } from '../members/members.service';
import { tenantOf } from '../tenancy/organization-tenant';
import { Organization } from '../tenancy/schemas/organization.schema';
import { tenantBusy, TenantState } from '../tenancy/tenant';
import { TenantRegistry } from '../tenancy/tenant-registry.service';
import { AccessTokenClaims, AdminOrganization, AuthenticatedAdmin } from './authenticated-admin';

export function organizationOf(organization: Organization): AdminOrganization {
  return { ...tenantOf(organization), name: organization.organization_name, state: organization.state };
}

/**
 * Who a token's claims speak for, as stored now: null once the principal is gone, its credentials
 * or role changed, or its organization deleted. Access and refresh tokens are both checked here.
 */
@Injectable()
export class PrincipalsService {
  constructor(
    private readonly admins: AdminsService,
    private readonly members: MembersService,
    private readonly registry: TenantRegistry,
  ) {}

  resolve(claims: AccessTokenClaims): Promise<AuthenticatedAdmin | null> {
    return claims.mem ? this.member(claims) : this.admin(claims);
  }

  /** Both reads at once; the claim is only trusted once the admin's own record confirms it. */
  private async admin(claims: AccessTokenClaims): Promise<AuthenticatedAdmin | null> {
    const [admin, organization] = await Promise.all([
      this.admins.findForToken(claims.sub),
      claims.org ? this.registry.findForToken(claims.org) : null,
    ]);
    if (
      !admin ||
      admin.token_version !== claims.ver ||
      admin.role !== claims.role ||
      (admin.organization_id?.toString() ?? null) !== claims.org ||
      (admin.role === Role.Admin && !organization)
    ) {
      return null;
    }
    return {
      adminId: admin._id.toString(),
      email: admin.email,
      role: admin.role,
      member: false,
      organization: organization ? organizationOf(organization) : null,
    };
  }

  /** A member is read from its organization's storage, which can be read only while it is active. */
  private async member(claims: AccessTokenClaims): Promise<AuthenticatedAdmin | null> {
    const organization = claims.org ? await this.registry.findForToken(claims.org) : null;
    if (!organization) {
      return null;
    }
    if (organization.state !== TenantState.Active) {
      throw tenantBusy();
    }
    const tenant = organizationOf(organization);
    const member = await this.members.findForToken(tenant, claims.sub);
    if (!member || member.token_version !== claims.ver || member.role !== claims.role) {
      return null;
    }
    return { adminId: claims.sub, email: member.email, role: member.role, member: true, organization: tenant };
  }
}
