import { ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import { isValidObjectId } from 'mongoose';
import { AdminsService } from '../admins/admins.service';
import { Role } from '../admins/schemas/admin.schema';
import { AuditActor, AuditService } from '../audit/audit.service';
import { AuditAction } from '../audit/schemas/audit-entry.schema';
import { RequestOrigin } from '../common/decorators/request-origin.decorator';
import { normalizeEmail } from '../common/email';
import { Environment } from '../config/environment';
import { MembersService } from '../members/members.service';
import { toSlug } from '../organizations/organization-name';
import { PasswordService } from '../passwords/password.service';
import { tenantOf } from '../tenancy/organization-tenant';
import { Organization } from '../tenancy/schemas/organization.schema';
import { Tenant, tenantBusy, TenantState } from '../tenancy/tenant';
import { TenantRegistry } from '../tenancy/tenant-registry.service';
import { AccessTokenClaims, AuthenticatedAdmin } from './authenticated-admin';
import { CurrentAdminDto } from './dto/current-admin.dto';
import { TokenResponseDto } from './dto/token-response.dto';
import { JwtSecret } from './jwt-secret';
import { PrincipalsService } from './principals.service';
import { RefreshTokensService } from './refresh-tokens.service';

export const WRONG_CREDENTIALS = 'Invalid email or password';
export const CURRENT_PASSWORD_WRONG = 'The current password is wrong';
export const REFRESH_REFUSED = 'Invalid, expired or revoked refresh token';
const SUPERADMIN_PASSWORD_FIXED = "The superadmin's password is set by SUPERADMIN_PASSWORD";

/** Who logged in, with what claims: their tokens are issued from this. */
interface Principal {
  claims: AccessTokenClaims;
  organization: Organization | null;
}

@Injectable()
export class AuthService {
  private readonly expiresInSeconds: number;

  constructor(
    config: ConfigService<Environment, true>,
    private readonly admins: AdminsService,
    private readonly members: MembersService,
    private readonly passwords: PasswordService,
    private readonly principals: PrincipalsService,
    private readonly refreshTokens: RefreshTokensService,
    private readonly audit: AuditService,
    private readonly jwt: JwtService,
    private readonly secret: JwtSecret,
    private readonly registry: TenantRegistry,
  ) {
    this.expiresInSeconds = config.get('JWT_EXPIRES_IN_SECONDS', { infer: true });
  }

  /**
   * A superadmin or an organization's first admin, by email alone. Unknown email and wrong password
   * take the same time and give the same answer.
   */
  async loginAdmin(email: string, password: string, origin: RequestOrigin): Promise<TokenResponseDto> {
    const admin = await this.admins.findByEmail(email);
    const passwordMatches = await this.passwords.verify(password, admin?.password_hash);
    const organization = admin?.organization_id ? await this.registry.findForToken(admin.organization_id) : null;
    if (!admin || (admin.organization_id && !organization)) {
      throw new UnauthorizedException(WRONG_CREDENTIALS);
    }
    const claims = {
      sub: admin._id.toString(),
      org: admin.organization_id?.toString() ?? null,
      role: admin.role,
      ver: admin.token_version,
    };
    return this.concludeLogin(passwordMatches, { claims, organization }, email, origin);
  }

  /** Anyone in an organization, by email and the organization's name or id; without one, as loginAdmin. */
  async login(
    email: string,
    password: string,
    organizationRef: string | undefined,
    origin: RequestOrigin,
  ): Promise<TokenResponseDto> {
    if (organizationRef === undefined) {
      return this.loginAdmin(email, password, origin);
    }
    const organization = await this.organizationNamed(organizationRef);
    if (organization && organization.state !== TenantState.Active) {
      throw tenantBusy();
    }
    const member = organization ? await this.members.findByEmail(tenantOf(organization), email) : null;
    if (organization && !member) {
      const admin = await this.admins.findByEmail(email);
      if (admin?.organization_id?.equals(organization._id)) {
        return this.loginAdmin(email, password, origin);
      }
    }
    const passwordMatches = await this.passwords.verify(password, member?.password_hash);
    if (!organization || !member) {
      // A failed login names an organization: its admins see it in its trail.
      if (organization) {
        await this.recordLogin(tenantOf(organization), false, null, email, origin);
      }
      throw new UnauthorizedException(WRONG_CREDENTIALS);
    }
    const claims: AccessTokenClaims = {
      sub: member._id.toString(),
      org: organization._id.toString(),
      role: member.role,
      ver: member.token_version,
      mem: true,
    };
    return this.concludeLogin(passwordMatches, { claims, organization }, email, origin);
  }

  /** Rotates: the token is used up and a new pair issued, if who it speaks for still stands. */
  async refresh(refreshToken: string, origin: RequestOrigin): Promise<TokenResponseDto> {
    const redemption = await this.refreshTokens.redeem(refreshToken);
    if (redemption.status === 'reused') {
      const principal = await this.principals.resolve(redemption.claims).catch(() => null);
      if (principal?.organization) {
        await this.audit.record(
          principal.organization,
          {
            action: AuditAction.RefreshReuseDetected,
            actor: actorFrom(redemption.claims),
            target: redemption.claims.sub,
          },
          origin,
        );
      }
    }
    if (redemption.status !== 'valid') {
      throw new UnauthorizedException(REFRESH_REFUSED);
    }
    try {
      const principal = await this.principals.resolve(redemption.claims);
      if (!principal) {
        throw new UnauthorizedException(REFRESH_REFUSED);
      }
      return await this.issue(redemption.claims, principal.organization?.name ?? null, redemption.family);
    } catch (error) {
      // A busy organization or a database away: the token may be presented again, not taken for a copy.
      if (!(error instanceof UnauthorizedException)) {
        await redemption.giveBack();
      }
      throw error;
    }
  }

  async logout(refreshToken: string): Promise<void> {
    await this.refreshTokens.revokeFamilyOf(refreshToken);
  }

  /** The caller's own password, the current one given; every token of the caller stops working. */
  async changePassword(
    viewer: AuthenticatedAdmin,
    currentPassword: string,
    newPassword: string,
    origin: RequestOrigin,
  ): Promise<void> {
    if (viewer.role === Role.Superadmin) {
      throw new ForbiddenException(SUPERADMIN_PASSWORD_FIXED);
    }
    const tenant = viewer.organization as Tenant;
    const stored = viewer.member
      ? await this.members.findByEmail(tenant, viewer.email)
      : await this.admins.findById(viewer.adminId);
    const actor = { id: viewer.adminId, role: viewer.role };
    if (!stored || !(await this.passwords.verify(currentPassword, stored.password_hash))) {
      await this.audit.record(
        tenant,
        { action: AuditAction.PasswordChangeFailed, actor, target: viewer.adminId },
        origin,
      );
      throw new UnauthorizedException(CURRENT_PASSWORD_WRONG);
    }
    // The current password again is no change, and so revokes nothing.
    if (await this.passwords.verify(newPassword, stored.password_hash)) {
      return;
    }
    const passwordHash = await this.passwords.hash(newPassword);
    await (viewer.member
      ? this.members.changePassword(tenant, viewer.adminId, passwordHash)
      : this.admins.changeCredentialsNow(stored._id, { passwordHash, tokenVersion: stored.token_version }));
    await this.audit.record(tenant, { action: AuditAction.PasswordChanged, actor, target: viewer.adminId }, origin);
  }

  describe(admin: AuthenticatedAdmin): CurrentAdminDto {
    return {
      admin_id: admin.adminId,
      email: admin.email,
      role: admin.role,
      is_member: admin.member,
      organization_id: admin.organization?.id ?? null,
      organization_name: admin.organization?.name ?? null,
    };
  }

  private async concludeLogin(
    passwordMatches: boolean,
    principal: Principal,
    email: string,
    origin: RequestOrigin,
  ): Promise<TokenResponseDto> {
    const tenant = principal.organization ? tenantOf(principal.organization) : null;
    if (tenant) {
      await this.recordLogin(
        tenant,
        passwordMatches,
        passwordMatches ? actorFrom(principal.claims) : null,
        email,
        origin,
      );
    }
    if (!passwordMatches) {
      throw new UnauthorizedException(WRONG_CREDENTIALS);
    }
    return this.issue(principal.claims, principal.organization?.organization_name ?? null);
  }

  private recordLogin(
    tenant: Tenant,
    succeeded: boolean,
    actor: AuditActor | null,
    email: string,
    origin: RequestOrigin,
  ): Promise<void> {
    const action = succeeded ? AuditAction.LoginSucceeded : AuditAction.LoginFailed;
    return this.audit.record(tenant, { action, actor, target: normalizeEmail(email) }, origin);
  }

  private async issue(
    claims: AccessTokenClaims,
    organizationName: string | null,
    family?: string,
  ): Promise<TokenResponseDto> {
    const [accessToken, refreshToken] = await Promise.all([
      this.jwt.signAsync(claims, { secret: this.secret.value, expiresIn: this.expiresInSeconds }),
      this.refreshTokens.issue(claims, family),
    ]);
    return {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: this.expiresInSeconds,
      refresh_token: refreshToken,
      admin_id: claims.sub,
      role: claims.role,
      organization_id: claims.org,
      organization_name: organizationName,
    };
  }

  /** By id when the reference is one, else by name. */
  private async organizationNamed(reference: string): Promise<Organization | null> {
    const byId = isValidObjectId(reference) && /^[0-9a-f]{24}$/i.test(reference);
    return (
      (byId ? await this.registry.findForToken(reference) : null) ??
      (await this.registry.findVisibleBySlug(toSlug(reference)))
    );
  }
}

function actorFrom(claims: AccessTokenClaims): AuditActor {
  return { id: claims.sub, role: claims.role };
}
