import { ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { FastifyRequest } from 'fastify';
import { AuthenticatedAdmin } from '../authenticated-admin';
import { ACCESS_RULE, AccessRule } from '../decorators/auth.decorator';
import { IS_PUBLIC } from '../decorators/public.decorator';
import { AdminRole } from '../schemas/admin.schema';

export const TOKEN_REFUSED = 'Missing, invalid or expired token';
export const SUPERADMIN_ONLY = 'Only a superadmin may do this';

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
    if (rule.superadmin && request.user?.role !== AdminRole.Superadmin) {
      throw new ForbiddenException(SUPERADMIN_ONLY);
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
