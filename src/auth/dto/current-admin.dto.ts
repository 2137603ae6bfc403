import { Role } from '../../admins/schemas/admin.schema';

export class CurrentAdminDto {
  /** The admin's or member's id. @example "665f1c2e8b3e4a1d2c3b4a59" */
  admin_id: string;

  /** @example "admin@acme.com" */
  email: string;

  /** @example "admin" */
  role: Role;

  /** False for the organization's first admin and superadmins, true for members added later. @example false */
  is_member: boolean;

  /** Null for a superadmin. @example "665f1c2e8b3e4a1d2c3b4a58" */
  organization_id: string | null;

  /** Null for a superadmin. @example "Acme Corp" */
  organization_name: string | null;
}

export class CurrentAdminEnvelopeDto {
  /** @example true */
  success: boolean;

  /** @example "Current admin retrieved" */
  message: string;

  data: CurrentAdminDto;
}
