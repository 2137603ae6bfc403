import { ExecutionContext, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { JwtAuthGuard } from './jwt-auth.guard';

/** Anonymous callers pass; a caller who sends a token must send a valid one. */
@Injectable()
export class OptionalJwtAuthGuard extends JwtAuthGuard {
  canActivate(context: ExecutionContext) {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    return request.headers.authorization === undefined ? true : super.canActivate(context);
  }
}
