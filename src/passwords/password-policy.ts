import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';

const PASSWORD_MIN_CHARACTERS = 8;
/** bcrypt silently ignores every byte past the 72nd, so longer passwords are refused outright. */
export const PASSWORD_MAX_BYTES = 72;

export function passwordProblem(password: unknown): string | null {
  if (typeof password !== 'string') {
    return 'password must be a string';
  }
  if ([...password].length < PASSWORD_MIN_CHARACTERS) {
    return `password must be at least ${PASSWORD_MIN_CHARACTERS} characters`;
  }
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) {
    return `password must be at most ${PASSWORD_MAX_BYTES} bytes in UTF-8`;
  }
  return null;
}

export function IsAcceptablePassword(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      type: String,
      format: 'password',
      minLength: PASSWORD_MIN_CHARACTERS,
      maxLength: PASSWORD_MAX_BYTES,
    }),
    ValidateBy({
      name: 'isAcceptablePassword',
      validator: {
        validate: (value: unknown) => passwordProblem(value) === null,
        defaultMessage: (args) => passwordProblem(args?.value) ?? 'password is not acceptable',
      },
    }),
  );
}
