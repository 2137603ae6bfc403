import { Injectable, Logger } from '@nestjs/common';
import { QueryFilter } from 'mongoose';
import { Managers, OrganizationAccess, OrganizationRef } from '../access/organization-access.service';
import type { AuthenticatedAdmin } from '../auth/authenticated-admin';
import { RequestOrigin } from '../common/decorators/request-origin.decorator';
import { parseDateTime } from '../common/date-time';
import { tenantOf } from '../tenancy/organization-tenant';
import { Tenant } from '../tenancy/tenant';
import { TenantConnectionService } from '../tenancy/tenant-connection.service';
import { AuditEntryDto, AuditPageDto } from './dto/audit-entry.dto';
import { AuditQueryDto } from './dto/audit-query.dto';
import { AuditAction, AuditEntity, AuditEntry } from './schemas/audit-entry.schema';

/** Who did something: the caller behind a token, or the member a login was for. */
export interface AuditActor {
  readonly id: string;
  readonly role: string;
}

export interface AuditRecord {
  readonly action: AuditAction;
  readonly actor: AuditActor | null;
  readonly target: string | null;
  readonly details?: Record<string, unknown>;
}

export function actorOf(viewer: AuthenticatedAdmin): AuditActor {
  return { id: viewer.adminId, role: viewer.role };
}

/** The audit trail: the one owner of each organization's `audit` collection. */
@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(
    private readonly tenancy: TenantConnectionService,
    private readonly access: OrganizationAccess,
  ) {}

  /**
   * Written after the change it tells of, which stands whether or not this write succeeds: a failure
   * to record is logged (with the entry), never turned into the answer.
   */
  async record(tenant: Tenant, record: AuditRecord, origin: RequestOrigin | undefined): Promise<void> {
    try {
      const entries = await this.tenancy.model(tenant, AuditEntity);
      await entries.create({
        action: record.action,
        actor_id: record.actor?.id ?? null,
        actor_role: record.actor?.role ?? null,
        target: record.target,
        details: record.details,
        at: new Date(),
        ip: origin?.ip ?? null,
        request_id: origin?.requestId ?? null,
      });
    } catch (error) {
      this.logger.warn({ tenant: tenant.id, record, error: (error as Error).message }, 'Audit entry not recorded');
    }
  }

  /** For the organization's admins and superadmins, newest first. */
  async list(ref: OrganizationRef, viewer: AuthenticatedAdmin, query: AuditQueryDto): Promise<AuditPageDto> {
    const organization = await this.access.manageable(ref, viewer, Managers.Admins);
    const entries = await this.tenancy.model(tenantOf(organization), AuditEntity);
    const filter: QueryFilter<AuditEntry> = {
      ...(query.action ? { action: query.action } : {}),
      ...(query.from || query.to
        ? {
            at: {
              ...(query.from ? { $gte: parseDateTime(query.from) } : {}),
              ...(query.to ? { $lt: parseDateTime(query.to) } : {}),
            },
          }
        : {}),
    };
    const [found, total] = await Promise.all([
      entries
        .find(filter)
        .sort({ at: -1, _id: -1 })
        .skip((query.page - 1) * query.limit)
        .limit(query.limit)
        .lean()
        .exec(),
      entries.countDocuments(filter).exec(),
    ]);
    return { items: found.map(toDto), page: query.page, limit: query.limit, total };
  }
}

function toDto(entry: AuditEntry): AuditEntryDto {
  return {
    audit_id: entry._id.toString(),
    action: entry.action,
    actor_id: entry.actor_id,
    actor_role: entry.actor_role,
    target: entry.target,
    ...(entry.details ? { details: entry.details } : {}),
    at: entry.at,
    ip: entry.ip,
    request_id: entry.request_id,
  };
}
