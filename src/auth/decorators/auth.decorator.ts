import { applyDecorators, ForbiddenException, SetMetadata, UnauthorizedException } from '@nestjs/common';
import { ApiBearerAuth, ApiOAuth2, ApiSecurity } from '@nestjs/swagger';
import { ApiProblems } from '../../common/decorators/api-problems.decorator';
import { Role } from '../../admins/schemas/admin.schema';
import { roleRefused, TOKEN_REFUSED } from '../guards/jwt-auth.guard';

export const BEARER_SCHEME = 'bearer';
export const OAUTH2_SCHEME = 'oauth2';
export const ACCESS_RULE = 'accessRule';

export interface AccessRule {
  /** Only tokens of these roles open the route; any other valid token gets 403. Any role without it. */
  roles?: readonly Role[];
  /** Anonymous callers pass; a caller who sends a token must send a valid one. */
  optional?: boolean;
}

/**
 * The access rule of a route, in one place: what the global JwtAuthGuard enforces, the security
 * Swagger shows (a pasted bearer token or its OAuth2 password login), and the 401/403 answers.
 * A route with neither this nor @Public() still needs a valid token.
 */
export function Auth(rule: AccessRule = {}): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ACCESS_RULE, rule),
    ApiBearerAuth(BEARER_SCHEME),
    ApiOAuth2([], OAUTH2_SCHEME),
    ...(rule.optional ? [ApiSecurity({})] : []),
    ApiProblems(
      new UnauthorizedException(TOKEN_REFUSED),
      ...(rule.roles ? [new ForbiddenException(roleRefused(rule.roles))] : []),
    ),
  );
}

export const SUPERADMINS: AccessRule = { roles: [Role.Superadmin] };
/** An organization's admins (the route then checks which organization) and superadmins. */
export const ORGANIZATION_ADMINS: AccessRule = { roles: [Role.Admin, Role.Superadmin] };
