import { Transform } from 'class-transformer';
import { IsEmail, MaxLength } from 'class-validator';
import { IsAcceptablePassword } from '../../passwords/password-policy';
import { toNormalizedEmail } from '../../common/email';
import { IsOrganizationName } from '../organization-name';

export class CreateOrganizationDto {
  /** Trimmed; 2 to 64 letters, digits, spaces, `-`, `_` or `.`. @example "Acme Corp" */
  @IsOrganizationName()
  organization_name: string;

  /** The organization admin's login. @example "admin@acme.com" */
  @Transform(toNormalizedEmail)
  @IsEmail()
  @MaxLength(254)
  email: string;

  /** 8 characters to 72 bytes. @example "SecurePassword123!" */
  @IsAcceptablePassword()
  password: string;
}
