import { ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { FastifyRequest } from 'fastify';
import { AuthenticatedAdmin } from '../authenticated-admin';
import { ACCESS_RULE, AccessRule } from '../decorators/auth.decorator';
import { IS_PUBLIC } from '../decorators/public.decorator';
import { Role } from '../../admins/schemas/admin.schema';

export const TOKEN_REFUSED = 'Missing, invalid or expired token';

/** The 403 of a route whose roles do not include the caller's. */
export function roleRefused(roles: readonly Role[]): string {
  return roles.length === 1 && roles[0] === Role.Superadmin
    ? 'Only a superadmin may do this'
    : `Only these roles may do this: ${roles.join(', ')}`;
}

/**
 * The one global guard: every route needs a valid, unrevoked bearer token unless it is @Public(),
 * and then obeys its @Auth() rule. Every token failure is the same 401.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) {
      return true;
    }
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE, targets) ?? {};
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthenticatedAdmin }>();
    if (rule.optional && request.headers.authorization === undefined) {
      return true;
    }
    await super.canActivate(context);
    if (rule.roles && !rule.roles.includes(request.user!.role)) {
      throw new ForbiddenException(roleRefused(rule.roles));
    }
    return true;
  }

  handleRequest<TUser>(error: unknown, user: TUser | false): TUser {
    if (error instanceof Error && !(error instanceof UnauthorizedException)) {
      throw error;
    }
    if (!user) {
      throw new UnauthorizedException(TOKEN_REFUSED);
    }
    return user;
  }
}
