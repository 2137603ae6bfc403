import { Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { isValidObjectId } from 'mongoose';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { tenantOf } from '../tenancy/organization-tenant';
import { TenantRegistry } from '../tenancy/tenant-registry.service';
import { AdminsService } from './admins.service';
import { AccessTokenClaims, AdminOrganization, AuthenticatedAdmin } from './authenticated-admin';
import { JwtSecret } from './jwt-secret';
import { AdminRole } from './schemas/admin.schema';

const INVALID_TOKEN = 'Invalid or expired token';

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(
    secret: JwtSecret,
    private readonly admins: AdminsService,
    private readonly registry: TenantRegistry,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: secret.value,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  /** The signature proves who issued the token; the database says whether it still counts. */
  async validate(claims: Partial<AccessTokenClaims & { exp: number }>): Promise<AuthenticatedAdmin> {
    // Tokens without an expiry are never issued here, so one without is forged.
    const organizationClaim = claims.org ?? null;
    if (
      !isValidObjectId(claims.sub) ||
      typeof claims.ver !== 'number' ||
      typeof claims.exp !== 'number' ||
      (organizationClaim !== null && !isValidObjectId(organizationClaim))
    ) {
      throw new UnauthorizedException(INVALID_TOKEN);
    }
    // Both reads at once; the claim is only trusted once the admin's own record confirms it.
    const [admin, organization] = await Promise.all([
      this.admins.findById(claims.sub as string),
      organizationClaim ? this.loadOrganization(organizationClaim) : null,
    ]);
    if (
      !admin ||
      admin.token_version !== claims.ver ||
      admin.role !== claims.role ||
      (admin.organization_id?.toString() ?? null) !== organizationClaim ||
      (admin.role === AdminRole.Admin && !organization)
    ) {
      throw new UnauthorizedException(INVALID_TOKEN);
    }
    return { adminId: admin._id.toString(), email: admin.email, role: admin.role, organization };
  }

  private async loadOrganization(id: string): Promise<AdminOrganization | null> {
    const organization = await this.registry.findForToken(id);
    if (!organization) {
      return null;
    }
    return { ...tenantOf(organization), name: organization.organization_name, state: organization.state };
  }
}
