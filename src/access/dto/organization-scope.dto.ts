import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { Optional } from '../../common/decorators/optional.decorator';
import { IsOrganizationName } from '../../organizations/organization-name';

const OBJECT_ID = '^[0-9a-fA-F]{24}$';

/**
 * An id as the service issues them, 24 hex digits, and documents it. Not @IsMongoId(), which also
 * takes `0x` and 22 digits (a string no query can cast: a 500) and which the document cannot show.
 */
export function IsObjectId(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ type: String, pattern: OBJECT_ID }),
    Matches(new RegExp(OBJECT_ID), { message: '$property must be a mongodb id' }),
  );
}

/** The seed-style paths' `?organization_name=`: the caller's own organization when absent. */
export class OrganizationScopeQueryDto {
  /** Required with a superadmin token. @example "Acme Corp" */
  @Optional()
  @IsOrganizationName()
  organization_name?: string;
}

/** `/api/v1/organizations/{organization_id}/...` */
export class OrganizationIdParamDto {
  /** @example "665f1c2e8b3e4a1d2c3b4a58" */
  @IsObjectId()
  organization_id: string;
}
