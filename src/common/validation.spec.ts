import { BadRequestException } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsOptional, IsString, MaxLength, ValidateIf, ValidateNested } from 'class-validator';
import { Optional } from './decorators/optional.decorator';
import { FieldError } from './problem-details';
import { createValidationPipe } from './validation';

class ContactDto {
  @IsEmail()
  email: string;
}

class AddressDto {
  @IsString()
  city: string;
}

class SignupDto {
  @IsString()
  name: string;

  @IsInt()
  seats: number;

  @ValidateNested()
  @Type(() => AddressDto)
  address: AddressDto;

  @ValidateNested({ each: true })
  @Type(() => ContactDto)
  contacts: ContactDto[];
}

class AccountDto {
  @IsEmail()
  @MaxLength(254)
  @IsString()
  email: string;

  @Optional()
  @IsString()
  @MaxLength(10)
  nickname?: string;

  @IsOptional()
  @IsInt()
  age?: number;

  @ValidateIf((account: AccountDto) => account.nickname === undefined)
  @IsString()
  @MaxLength(10)
  display_name?: string;
}

class OptionalOnlyDto {
  @Optional()
  @IsString()
  name?: string;
}

const VALID = { name: 'Acme', seats: 3, address: { city: 'Oslo' }, contacts: [{ email: 'a@acme.com' }] };

function run(value: unknown, metatype: new () => object = SignupDto): Promise<unknown> {
  return createValidationPipe().transform(value, { type: 'body', metatype });
}

/** The field errors the pipe reports for `value`; fails the test if the pipe lets it through. */
async function fieldErrors(value: unknown, metatype?: new () => object): Promise<FieldError[]> {
  const exception = await run(value, metatype).then(
    () => {
      throw new Error(`expected ${JSON.stringify(value)} to be refused`);
    },
    (error: unknown) => error,
  );
  expect(exception).toBeInstanceOf(BadRequestException);
  return ((exception as BadRequestException).getResponse() as { errors: FieldError[] }).errors;
}

describe('createValidationPipe', () => {
  it('turns a valid body into an instance of the DTO, nested objects included', async () => {
    const result = await run(VALID);
    expect(result).toBeInstanceOf(SignupDto);
    expect(result).toEqual(VALID);
    expect((result as SignupDto).address).toBeInstanceOf(AddressDto);
  });

  it('throws a BadRequestException with message "Request validation failed" and the field errors', async () => {
    const error: unknown = await run({ ...VALID, seats: 'three' }).catch((rejection: unknown) => rejection);
    expect(error).toBeInstanceOf(BadRequestException);
    expect((error as BadRequestException).getResponse()).toEqual({
      message: 'Request validation failed',
      errors: [{ field: 'seats', message: 'seats must be an integer number' }],
    });
  });

  it('refuses unknown fields, at the top level and in nested objects', async () => {
    const errors = await fieldErrors({ ...VALID, role: 'superadmin', address: { city: 'Oslo', zip: '0150' } });
    expect(errors).toHaveLength(2);
    expect(errors).toEqual(
      expect.arrayContaining([
        { field: 'role', message: 'property role should not exist' },
        { field: 'address.zip', message: 'property zip should not exist' },
      ]),
    );
  });

  it('flattens nested errors to {field, message} with dotted paths', async () => {
    const errors = await fieldErrors({
      ...VALID,
      address: { city: 7 },
      contacts: [{ email: 'a@acme.com' }, { email: 'nope' }],
    });
    expect(errors).toEqual(
      expect.arrayContaining([
        { field: 'address.city', message: 'city must be a string' },
        { field: 'contacts.1.email', message: 'email must be an email' },
      ]),
    );
    expect(errors).toHaveLength(2);
  });

  it('refuses operator objects where a string is expected', async () => {
    expect(await fieldErrors({ ...VALID, name: { $ne: null } })).toEqual([
      { field: 'name', message: 'name must be a string' },
    ]);
    expect(await fieldErrors({ ...VALID, address: { city: { $gt: '' } } })).toEqual([
      { field: 'address.city', message: 'city must be a string' },
    ]);
  });

  it('refuses a missing body and a body that is not an object', async () => {
    for (const body of [undefined, 'Acme', [VALID]]) {
      expect((await fieldErrors(body)).map((error) => error.field)).toContain('name');
    }
  });

  it('refuses a body of null, even where every field is optional, rather than taking it for no body', async () => {
    expect(await fieldErrors(null)).toEqual([{ field: 'body', message: 'body must be a JSON object' }]);
    expect(await fieldErrors(null, OptionalOnlyDto)).toEqual([
      { field: 'body', message: 'body must be a JSON object' },
    ]);
    expect(await run(undefined, OptionalOnlyDto)).toBeInstanceOf(OptionalOnlyDto);
  });

  describe('a missing field', () => {
    it('gets exactly one message, "<field> is required", whatever its rules', async () => {
      expect(await fieldErrors({}, AccountDto)).toEqual([
        { field: 'email', message: 'email is required' },
        { field: 'display_name', message: 'display_name is required' },
      ]);
      expect(await fieldErrors({ ...VALID, name: undefined, seats: undefined })).toEqual([
        { field: 'name', message: 'name is required' },
        { field: 'seats', message: 'seats is required' },
      ]);
    });

    it('is required at its own path, nested or in an array', async () => {
      expect(await fieldErrors({ ...VALID, address: {}, contacts: [{ email: 'a@acme.com' }, {}] })).toEqual([
        { field: 'address.city', message: 'city is required' },
        { field: 'contacts.1.email', message: 'email is required' },
      ]);
    });

    it('is no error at all when the field is optional', async () => {
      await expect(run({ email: 'a@acme.com', nickname: 'al' }, AccountDto)).resolves.toBeInstanceOf(AccountDto);
      await expect(run({ email: 'a@acme.com', display_name: 'Al' }, AccountDto)).resolves.toBeInstanceOf(AccountDto);
    });

    it('is told apart from a present but wrong value, which keeps its specific messages', async () => {
      const errors = await fieldErrors({ email: 'x'.repeat(300), nickname: null, age: 'old' }, AccountDto);
      expect(errors).toEqual(
        expect.arrayContaining([
          { field: 'email', message: 'email must be an email' },
          { field: 'email', message: 'email must be shorter than or equal to 254 characters' },
          { field: 'nickname', message: 'nickname must be a string' },
          { field: 'age', message: 'age must be an integer number' },
        ]),
      );
      expect(errors.map((error) => error.message).filter((message) => message.endsWith('is required'))).toEqual([]);
    });

    it('reports a whole missing body as every required field missing, once each', async () => {
      expect(await fieldErrors(undefined, AccountDto)).toEqual([
        { field: 'email', message: 'email is required' },
        { field: 'display_name', message: 'display_name is required' },
      ]);
    });

    it('never turns an unknown field into a required one', async () => {
      expect(await fieldErrors({ email: 'a@acme.com', nickname: 'al', role: 'root' }, AccountDto)).toEqual([
        { field: 'role', message: 'property role should not exist' },
      ]);
    });
  });
});
