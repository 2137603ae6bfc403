import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, MaxLength } from 'class-validator';
import { toNormalizedEmail } from '../../common/email';
import { Optional } from '../../common/decorators/optional.decorator';
import { IsAcceptablePassword } from '../../passwords/password-policy';
import { MEMBER_ROLES, MemberRole } from '../schemas/member.schema';

export class CreateMemberDto {
  /** Unique within the organization. @example "jane@acme.com" */
  @Transform(toNormalizedEmail)
  @IsEmail()
  @MaxLength(254)
  email: string;

  /** 8 characters to 72 bytes. @example "JanesPassword123!" */
  @IsAcceptablePassword()
  password: string;

  /** `member` when absent. @example "member" */
  @ApiProperty({ enum: MEMBER_ROLES, required: false })
  @Optional()
  @IsIn(MEMBER_ROLES)
  role?: MemberRole;
}
