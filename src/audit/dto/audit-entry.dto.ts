import { AuditAction } from '../schemas/audit-entry.schema';

export class AuditEntryDto {
  /** @example "665f1c2e8b3e4a1d2c3b4a60" */
  audit_id: string;

  /** @example "member.added" */
  action: AuditAction;

  /** Null when nobody could be told, as for a failed login. @example "665f1c2e8b3e4a1d2c3b4a59" */
  actor_id: string | null;

  /** @example "admin" */
  actor_role: string | null;

  /** A member's or the organization's id, or the email a login named. @example "665f1c2e8b3e4a1d2c3b4a61" */
  target: string | null;

  /** What changed, where the action does not say it all. @example {"role":"member"} */
  details?: Record<string, unknown>;

  /** @example "2026-01-01T10:30:00.000Z" */
  at: Date;

  /** @example "203.0.113.7" */
  ip: string | null;

  /** @example "req-1" */
  request_id: string | null;
}

export class AuditPageDto {
  items: AuditEntryDto[];

  /** @example 1 */
  page: number;

  /** @example 20 */
  limit: number;

  /** @example 42 */
  total: number;
}

export class AuditPageEnvelopeDto {
  /** @example true */
  success: boolean;

  /** @example "Audit trail retrieved successfully" */
  message: string;

  data: AuditPageDto;
}
