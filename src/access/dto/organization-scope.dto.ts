import { IsMongoId } from 'class-validator';
import { Optional } from '../../common/decorators/optional.decorator';
import { IsOrganizationName } from '../../organizations/organization-name';

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
  @IsMongoId()
  organization_id: string;
}
