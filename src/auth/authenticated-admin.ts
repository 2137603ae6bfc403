import { Tenant, TenantState } from '../tenancy/tenant';
import { Role } from '../admins/schemas/admin.schema';

export interface AdminOrganization extends Tenant {
  readonly name: string;
  readonly state: TenantState;
}

/** Who made the request, as re-read from the database for every verified token. */
export interface AuthenticatedAdmin {
  readonly adminId: string;
  readonly email: string;
  readonly role: Role;
  /** Kept in the organization's own storage (added through the members API), not the master database. */
  readonly member: boolean;
  /** Null for a superadmin. */
  readonly organization: AdminOrganization | null;
}

export interface AccessTokenClaims {
  sub: string;
  org: string | null;
  role: Role;
  ver: number;
  /** Present (true) on the tokens of members kept in the organization's storage. */
  mem?: true;
}
