import { PickType } from '@nestjs/swagger';
import { Optional } from '../../common/decorators/optional.decorator';
import { ApiSchemaRules } from '../../common/openapi/schema-rules.decorator';
import { IsOrganizationName } from '../organization-name';
import { UpdateOrganizationDto } from './update-organization.dto';

/** `/api/v1`: the organization is in the path, by id; the body holds only what changes. */
@ApiSchemaRules({ minProperties: 1 })
export class PatchOrganizationDto extends PickType(UpdateOrganizationDto, ['email', 'password'] as const) {
  /** A new name: renames the organization and moves its storage. @example "Acme Industries" */
  @Optional()
  @IsOrganizationName()
  organization_name?: string;
}
