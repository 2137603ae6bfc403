import { ApiProperty } from '@nestjs/swagger';
import { MEMBER_ROLES, MemberRole } from '../schemas/member.schema';

export class MemberDto {
  /** @example "665f1c2e8b3e4a1d2c3b4a61" */
  member_id: string;

  /** @example "jane@acme.com" */
  email: string;

  /** @example "member" */
  @ApiProperty({ enum: MEMBER_ROLES })
  role: MemberRole;

  /** The admin the organization was created with: it stays an admin and is managed with PUT /org/update. @example false */
  is_owner: boolean;

  /** @example "665f1c2e8b3e4a1d2c3b4a58" */
  organization_id: string;

  /** @example "2026-01-01T10:30:00.000Z" */
  created_at: Date;

  /** @example "2026-01-01T10:30:00.000Z" */
  updated_at: Date;
}

export class MemberEnvelopeDto {
  /** @example true */
  success: boolean;

  /** @example "Member added successfully" */
  message: string;

  data: MemberDto;
}

export class MemberPageDto {
  items: MemberDto[];

  /** @example 1 */
  page: number;

  /** @example 20 */
  limit: number;

  /** @example 2 */
  total: number;
}

export class MemberPageEnvelopeDto {
  /** @example true */
  success: boolean;

  /** @example "Members retrieved successfully" */
  message: string;

  data: MemberPageDto;
}

export class RemovedMemberDto {
  /** @example "665f1c2e8b3e4a1d2c3b4a61" */
  member_id: string;
}

export class RemovedMemberEnvelopeDto {
  /** @example true */
  success: boolean;

  /** @example "Member removed successfully" */
  message: string;

  data: RemovedMemberDto;
}
