import { ApiProperty, ExamplesObject } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { Optional } from '../../common/decorators/optional.decorator';
import { IsAcceptablePassword } from '../../passwords/password-policy';
import { ApiSchemaRules } from '../../common/openapi/schema-rules.decorator';
import { LOGIN_EXAMPLES, LoginDto, ONE_EMAIL_FIELD } from './login.dto';

/** A login of anyone: a member names the organization; without it, as POST /admin/login. */
@ApiSchemaRules(ONE_EMAIL_FIELD)
export class SessionLoginDto extends LoginDto {
  /** The organization's name or id; required for a member. @example "Acme Corp" */
  @ApiProperty({ minLength: 1, required: false })
  @Optional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  organization?: string;
}

export const SESSION_LOGIN_EXAMPLES: ExamplesObject = {
  member: {
    summary: 'A member, in the organization named',
    value: { email: 'jane@acme.com', password: 'JanesPassword123!', organization: 'Acme Corp' },
  },
  ...LOGIN_EXAMPLES,
};

export class RefreshTokenDto {
  /** @example "q5Xr2cY0m2qk1yq0h0b6y1y9Qk3l7c2v8xZp4W1s0aE" */
  @ApiProperty({ minLength: 1 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  refresh_token: string;
}

export class ChangePasswordDto {
  /** @example "JanesPassword123!" */
  @ApiProperty({ minLength: 1 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  current_password: string;

  /** 8 characters to 72 bytes. @example "JanesNewPassword123!" */
  @IsAcceptablePassword()
  new_password: string;
}
