import { BadRequestException } from '@nestjs/common';
import { ApiProperty, ExamplesObject, SchemaObject } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { Equals, IsEmail, IsNotEmpty, IsString, MaxLength, ValidateIf } from 'class-validator';
import { Optional } from '../../common/decorators/optional.decorator';
import { ApiSchemaRules } from '../../common/openapi/schema-rules.decorator';

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** The service takes either field in either content type, and refuses both or neither with a 400. */
export const ONE_EMAIL_FIELD: SchemaObject = {
  description: 'In JSON or in the form alike: the email as `email`, or as `username` (its OAuth2 name), never both.',
  oneOf: [
    { title: 'By email', required: ['email'] },
    { title: 'OAuth2 password form, by username', required: ['username'] },
  ],
};

/**
 * JSON `{email, password}`, or the OAuth2 password form (`username=&password=`), so that
 * Swagger's Authorize dialog and FastAPI-era clients both work.
 */
@ApiSchemaRules(ONE_EMAIL_FIELD)
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
  @ApiProperty({ minLength: 1 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password: string;

  /** OAuth2 form field: `password`, or empty (as FastAPI-era clients send it) or absent. @example "password" */
  @ApiProperty({ enum: ['', 'password'], required: false })
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

/**
 * Whole bodies, each valid in either content type (Swagger UI would otherwise send both email and
 * username): the admin that POST /org/create's example makes.
 */
export const LOGIN_EXAMPLES: ExamplesObject = {
  json: { summary: 'Email and password', value: { email: 'admin@acme.com', password: 'SecurePassword123!' } },
  oauth2: {
    summary: 'OAuth2 password form',
    value: { username: 'admin@acme.com', password: 'SecurePassword123!', grant_type: 'password' },
  },
};

/** The email, under either of its names; both at once is a 400. */
export function emailOf(body: LoginDto): string {
  if (body.email !== undefined && body.username !== undefined) {
    throw new BadRequestException('Give either email or username, not both');
  }
  return (body.email ?? body.username) as string;
}
