import { IsOrganizationName } from '../organization-name';

export class OrganizationNameQueryDto {
  /** @example "Acme Corp" */
  @IsOrganizationName()
  organization_name: string;
}
