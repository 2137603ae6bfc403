import { ApiProperty, IntersectionType } from '@nestjs/swagger';
import { IsEnum, IsISO8601 } from 'class-validator';
import { OrganizationScopeQueryDto } from '../../access/dto/organization-scope.dto';
import { PageQueryDto } from '../../common/dto/page-query.dto';
import { Optional } from '../../common/decorators/optional.decorator';
import { AuditAction } from '../schemas/audit-entry.schema';

/**
 * An RFC 3339 date-time, as the document states it: the validator also takes other ISO 8601 forms,
 * but refuses the years 0001 to 0099 (it reads them as 2001 to 2099), hence the pattern.
 */
const DATE_TIME = { required: false, format: 'date-time', pattern: '^(?!00)' };

/** Newest first; every filter optional. */
export class AuditQueryDto extends PageQueryDto {
  /** Only entries of this action. @example "member.added" */
  @Optional()
  @IsEnum(AuditAction)
  action?: AuditAction;

  /** Only entries at or after this time. @example "2026-01-01T00:00:00.000Z" */
  @ApiProperty(DATE_TIME)
  @Optional()
  @IsISO8601({ strict: true })
  from?: string;

  /** Only entries before this time. @example "2026-12-31T00:00:00.000Z" */
  @ApiProperty(DATE_TIME)
  @Optional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class ScopedAuditQueryDto extends IntersectionType(AuditQueryDto, OrganizationScopeQueryDto) {}
