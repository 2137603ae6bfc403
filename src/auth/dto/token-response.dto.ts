import { Role } from '../../admins/schemas/admin.schema';

/** RFC 6749 section 5.1 access token response, at the top level with no envelope. */
export class TokenResponseDto {
  /** @example "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..." */
  access_token: string;

  /** @example "bearer" */
  token_type: 'bearer';

  /** Seconds until the token expires. @example 1800 */
  expires_in: number;

  /** Works once, at POST /auth/refresh, for a new pair; expires after REFRESH_TOKEN_TTL_SECONDS. @example "q5Xr2cY0m2qk1yq0h0b6y1y9Qk3l7c2v8xZp4W1s0aE" */
  refresh_token: string;

  /** The admin or member the token speaks for. @example "665f1c2e8b3e4a1d2c3b4a59" */
  admin_id: string;

  /** @example "admin" */
  role: Role;

  /** Null for a superadmin. @example "665f1c2e8b3e4a1d2c3b4a58" */
  organization_id: string | null;

  /** Null for a superadmin. @example "Acme Corp" */
  organization_name: string | null;
}
