import { ApiProperty, IntersectionType } from '@nestjs/swagger';
import { IsEnum } from 'class-validator';
import { IsDateTime } from '../../common/date-time';
import { OrganizationScopeQueryDto } from '../../access/dto/organization-scope.dto';
import { PageQueryDto } from '../../common/dto/page-query.dto';
import { Optional } from '../../common/decorators/optional.decorator';
import { AuditAction } from '../schemas/audit-entry.schema';

const DATE_TIME = { required: false, format: 'date-time' };

/** Newest first; every filter optional. */
export class AuditQueryDto extends PageQueryDto {
  /** Only entries of this action. @example "member.added" */
  @Optional()
  @IsEnum(AuditAction)
  action?: AuditAction;

  /** Only entries at or after this time (RFC 3339, with its offset). @example "2026-01-01T00:00:00.000Z" */
  @ApiProperty(DATE_TIME)
  @Optional()
  @IsDateTime()
  from?: string;

  /** Only entries before this time (RFC 3339, with its offset). @example "2026-12-31T00:00:00.000Z" */
  @ApiProperty(DATE_TIME)
  @Optional()
  @IsDateTime()
  to?: string;
}

export class ScopedAuditQueryDto extends IntersectionType(AuditQueryDto, OrganizationScopeQueryDto) {}
