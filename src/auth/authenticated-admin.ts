import { Tenant, TenantState } from '../tenancy/tenant';
import { AdminRole } from './schemas/admin.schema';

export interface AdminOrganization extends Tenant {
  readonly name: string;
  readonly state: TenantState;
}

/** Who made the request, as re-read from the database for every verified token. */
export interface AuthenticatedAdmin {
  readonly adminId: string;
  readonly email: string;
  readonly role: AdminRole;
  /** Null for a superadmin. */
  readonly organization: AdminOrganization | null;
}

export interface AccessTokenClaims {
  sub: string;
  org: string | null;
  role: AdminRole;
  ver: number;
}
