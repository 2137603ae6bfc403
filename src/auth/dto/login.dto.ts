import { Transform } from 'class-transformer';
import { Equals, IsEmail, IsNotEmpty, IsString, MaxLength, ValidateIf } from 'class-validator';
import { Optional } from '../../common/decorators/optional.decorator';

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/**
 * JSON `{email, password}`, or the OAuth2 password form (`username=&password=`), so that
 * Swagger's Authorize dialog and FastAPI-era clients both work.
 */
export class LoginDto {
  /** @example "admin@acme.com" */
  @ValidateIf((body: LoginDto, value) => value !== undefined || body.username === undefined)
  @Transform(trimmed)
  @IsEmail()
  @MaxLength(254)
  email?: string;

  /** The email, under its OAuth2 form name. @example "admin@acme.com" */
  @Optional()
  @Transform(trimmed)
  @IsEmail()
  @MaxLength(254)
  username?: string;

  /** @example "SecurePassword123!" */
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password: string;

  /** OAuth2 form field: `password`, or empty (as FastAPI-era clients send it) or absent. @example "password" */
  @ValidateIf((_body, value) => value !== undefined && value !== '')
  @Equals('password')
  grant_type?: string;

  /** OAuth2 form field, accepted and ignored. @example "" */
  @Optional()
  @IsString()
  @MaxLength(1024)
  scope?: string;

  /** OAuth2 form field, accepted and ignored. @example "" */
  @Optional()
  @IsString()
  @MaxLength(1024)
  client_id?: string;

  /** OAuth2 form field, accepted and ignored. @example "" */
  @Optional()
  @IsString()
  @MaxLength(1024)
  client_secret?: string;
}
