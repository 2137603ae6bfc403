import { Optional } from '../../common/decorators/optional.decorator';
import { IsOrganizationName } from '../organization-name';

/** The name may come in the query string or in a JSON body; both forms are accepted. */
export class DeleteOrganizationDto {
  /** @example "Acme Corp" */
  @Optional()
  @IsOrganizationName()
  organization_name?: string;
}
