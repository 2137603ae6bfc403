import { IntersectionType } from '@nestjs/swagger';
import { IsEnum, IsISO8601 } from 'class-validator';
import { OrganizationScopeQueryDto } from '../../access/dto/organization-scope.dto';
import { PageQueryDto } from '../../common/dto/page-query.dto';
import { Optional } from '../../common/decorators/optional.decorator';
import { AuditAction } from '../schemas/audit-entry.schema';

/** Newest first; every filter optional. */
export class AuditQueryDto extends PageQueryDto {
  /** Only entries of this action. @example "member.added" */
  @Optional()
  @IsEnum(AuditAction)
  action?: AuditAction;

  /** Only entries at or after this time. @example "2026-01-01T00:00:00.000Z" */
  @Optional()
  @IsISO8601({ strict: true })
  from?: string;

  /** Only entries before this time. @example "2026-12-31T00:00:00.000Z" */
  @Optional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class ScopedAuditQueryDto extends IntersectionType(AuditQueryDto, OrganizationScopeQueryDto) {}
