import { createParamDecorator, ExecutionContext, ForbiddenException } from '@nestjs/common';
import { tenantBusy, TenantState } from '../../tenancy/tenant';
import { AdminOrganization, AuthenticatedAdmin } from '../authenticated-admin';

/**
 * The organization of the verified token, for routes that read or write tenant data (behind
 * the global JwtAuthGuard). Pass it to TenantConnectionService.model(); never build a tenant from input.
 */
export const CurrentTenant = createParamDecorator((_: unknown, context: ExecutionContext): AdminOrganization => {
  const admin = context.switchToHttp().getRequest<{ user?: AuthenticatedAdmin }>().user;
  if (!admin?.organization) {
    throw new ForbiddenException('This endpoint needs an organization admin token');
  }
  if (admin.organization.state !== TenantState.Active) {
    throw tenantBusy();
  }
  return admin.organization;
});
