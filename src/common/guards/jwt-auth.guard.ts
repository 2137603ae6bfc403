import { Injectable, UnauthorizedException } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';

/** Requires a valid, unrevoked bearer token; every failure is the same 401. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  handleRequest<TUser>(error: unknown, user: TUser | false): TUser {
    if (error instanceof Error && !(error instanceof UnauthorizedException)) {
      throw error;
    }
    if (!user) {
      throw new UnauthorizedException('Missing, invalid or expired token');
    }
    return user;
  }
}
