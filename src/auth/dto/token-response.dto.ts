/** RFC 6749 section 5.1 access token response, at the top level with no envelope. */
export class TokenResponseDto {
  /** @example "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..." */
  access_token: string;

  /** @example "bearer" */
  token_type: 'bearer';

  /** Seconds until the token expires. @example 1800 */
  expires_in: number;

  /** @example "665f1c2e8b3e4a1d2c3b4a59" */
  admin_id: string;

  /** Null for a superadmin. @example "665f1c2e8b3e4a1d2c3b4a58" */
  organization_id: string | null;

  /** Null for a superadmin. @example "Acme Corp" */
  organization_name: string | null;
}
