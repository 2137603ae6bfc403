import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, MaxLength } from 'class-validator';
import { Optional } from '../../common/decorators/optional.decorator';
import { toNormalizedEmail } from '../../common/email';
import { ApiSchemaRules } from '../../common/openapi/schema-rules.decorator';
import { IsAcceptablePassword } from '../../passwords/password-policy';
import { MEMBER_ROLES, MemberRole } from '../schemas/member.schema';

/** What differs from the stored member changes, and revokes the member's tokens. */
@ApiSchemaRules({ minProperties: 1 })
export class UpdateMemberDto {
  /** @example "jane.doe@acme.com" */
  @Optional()
  @Transform(toNormalizedEmail)
  @IsEmail()
  @MaxLength(254)
  email?: string;

  /** @example "JanesNewPassword123!" */
  @Optional()
  @IsAcceptablePassword()
  password?: string;

  /** @example "admin" */
  @ApiProperty({ enum: MEMBER_ROLES, required: false })
  @Optional()
  @IsIn(MEMBER_ROLES)
  role?: MemberRole;
}
