import { Transform } from 'class-transformer';
import { IsEmail, MaxLength, ValidateIf } from 'class-validator';
import { IsAcceptablePassword } from '../../auth/password-policy';
import { Optional } from '../../common/decorators/optional.decorator';
import { IsOrganizationName } from '../organization-name';

/**
 * `{organization_name, new_organization_name?, email?, password?}`, or the older form that names
 * the organization `old_organization_name`.
 */
export class UpdateOrganizationDto {
  /** The organization to change. @example "Acme Corp" */
  @ValidateIf((body: UpdateOrganizationDto) => body.old_organization_name === undefined)
  @IsOrganizationName()
  organization_name?: string;

  /** Same as organization_name, under its older name. @example "Acme Corp" */
  @Optional()
  @IsOrganizationName()
  old_organization_name?: string;

  /** Renames the organization and moves its storage. @example "Acme Industries" */
  @Optional()
  @IsOrganizationName()
  new_organization_name?: string;

  /** New admin email; revokes the admin's tokens. @example "owner@acme.com" */
  @Optional()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsEmail()
  @MaxLength(254)
  email?: string;

  /** New admin password, 8 characters to 72 bytes; revokes the admin's tokens. @example "NewSecurePassword123!" */
  @Optional()
  @IsAcceptablePassword()
  password?: string;
}
