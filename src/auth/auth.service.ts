import { Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import { Environment } from '../config/environment';
import { TenantRegistry } from '../tenancy/tenant-registry.service';
import { AdminsService } from './admins.service';
import { AccessTokenClaims, AuthenticatedAdmin } from './authenticated-admin';
import { CurrentAdminDto } from './dto/current-admin.dto';
import { TokenResponseDto } from './dto/token-response.dto';
import { JwtSecret } from './jwt-secret';
import { PasswordService } from './password.service';

export const WRONG_CREDENTIALS = 'Invalid email or password';

@Injectable()
export class AuthService {
  private readonly expiresInSeconds: number;

  constructor(
    config: ConfigService<Environment, true>,
    private readonly admins: AdminsService,
    private readonly passwords: PasswordService,
    private readonly jwt: JwtService,
    private readonly secret: JwtSecret,
    private readonly registry: TenantRegistry,
  ) {
    this.expiresInSeconds = config.get('JWT_EXPIRES_IN_SECONDS', { infer: true });
  }

  /** Unknown email and wrong password take the same time and give the same answer. */
  async login(email: string, password: string): Promise<TokenResponseDto> {
    const admin = await this.admins.findByEmail(email);
    const passwordMatches = await this.passwords.verify(password, admin?.password_hash);
    if (!admin || !passwordMatches) {
      throw new UnauthorizedException(WRONG_CREDENTIALS);
    }
    const organization = admin.organization_id ? await this.registry.findForToken(admin.organization_id) : null;
    if (admin.organization_id && !organization) {
      throw new UnauthorizedException(WRONG_CREDENTIALS);
    }
    const claims: AccessTokenClaims = {
      sub: admin._id.toString(),
      org: admin.organization_id?.toString() ?? null,
      role: admin.role,
      ver: admin.token_version,
    };
    return {
      access_token: await this.jwt.signAsync(claims, { secret: this.secret.value, expiresIn: this.expiresInSeconds }),
      token_type: 'bearer',
      expires_in: this.expiresInSeconds,
      admin_id: claims.sub,
      organization_id: claims.org,
      organization_name: organization?.organization_name ?? null,
    };
  }

  describe(admin: AuthenticatedAdmin): CurrentAdminDto {
    return {
      admin_id: admin.adminId,
      email: admin.email,
      role: admin.role,
      organization_id: admin.organization?.id ?? null,
      organization_name: admin.organization?.name ?? null,
    };
  }
}
