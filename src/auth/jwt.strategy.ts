import { Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { isValidObjectId } from 'mongoose';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { Role } from '../admins/schemas/admin.schema';
import { AccessTokenClaims, AuthenticatedAdmin } from './authenticated-admin';
import { JwtSecret } from './jwt-secret';
import { PrincipalsService } from './principals.service';

const INVALID_TOKEN = 'Invalid or expired token';
const ROLES = new Set<unknown>(Object.values(Role));

/** Tokens are only ever issued with these claims, so one without them is forged. */
function wellFormed(claims: Partial<AccessTokenClaims & { exp: number }>): claims is AccessTokenClaims {
  const organization = claims.org ?? null;
  return (
    isValidObjectId(claims.sub) &&
    typeof claims.ver === 'number' &&
    typeof claims.exp === 'number' &&
    ROLES.has(claims.role) &&
    (claims.mem === undefined || claims.mem === true) &&
    (organization === null ? !claims.mem : isValidObjectId(organization))
  );
}

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(
    secret: JwtSecret,
    private readonly principals: PrincipalsService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // jsonwebtoken takes a KeyObject too, which passport-jwt's types do not say.
      secretOrKey: secret.key as unknown as Buffer,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  /** The signature proves who issued the token; the database says whether it still counts. */
  async validate(claims: Partial<AccessTokenClaims & { exp: number }>): Promise<AuthenticatedAdmin> {
    const principal = wellFormed(claims) ? await this.principals.resolve({ ...claims, org: claims.org ?? null }) : null;
    if (!principal) {
      throw new UnauthorizedException(INVALID_TOKEN);
    }
    return principal;
  }
}
