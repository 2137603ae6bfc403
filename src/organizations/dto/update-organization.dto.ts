import { toNormalizedEmail } from '../../common/email';
import { ExamplesObject } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, MaxLength, ValidateIf } from 'class-validator';
import { IsAcceptablePassword } from '../../passwords/password-policy';
import { Optional } from '../../common/decorators/optional.decorator';
import { ApiSchemaRules } from '../../common/openapi/schema-rules.decorator';
import { IsOrganizationName } from '../organization-name';

/**
 * `{organization_name, new_organization_name?, email?, password?}`, or the older form that names
 * the organization `old_organization_name`.
 */
@ApiSchemaRules({
  // What the service refuses with a 400: both names or neither, and a body that changes nothing.
  description: 'Names the organization by exactly one of its two field names, and changes at least one thing.',
  oneOf: [
    { title: 'By organization_name', required: ['organization_name'] },
    { title: 'Seed form, by old_organization_name', required: ['old_organization_name'] },
  ],
  // With unknown fields refused, a second field is a change: new_organization_name, email or password.
  minProperties: 2,
})
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
  @Transform(toNormalizedEmail)
  @IsEmail()
  @MaxLength(254)
  email?: string;

  /** New admin password, 8 characters to 72 bytes; revokes the admin's tokens. @example "NewSecurePassword123!" */
  @Optional()
  @IsAcceptablePassword()
  password?: string;
}

/** Whole bodies, each valid (one name only): Swagger UI would otherwise build one with both names. */
export const UPDATE_ORGANIZATION_EXAMPLES: ExamplesObject = {
  rename: {
    summary: 'Rename, by organization_name',
    value: { organization_name: 'Acme Corp', new_organization_name: 'Acme Industries' },
  },
  seedForm: {
    summary: 'Seed form, by old_organization_name',
    value: {
      old_organization_name: 'Acme Corp',
      new_organization_name: 'Acme Industries',
      email: 'owner@acme.com',
      password: 'NewSecurePassword123!',
    },
  },
};
