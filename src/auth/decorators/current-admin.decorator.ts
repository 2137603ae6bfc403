import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { AuthenticatedAdmin } from '../authenticated-admin';

/** The admin behind the verified token, or undefined on a route where the token is optional. */
export const CurrentAdmin = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthenticatedAdmin | undefined =>
    context.switchToHttp().getRequest<{ user?: AuthenticatedAdmin }>().user,
);
