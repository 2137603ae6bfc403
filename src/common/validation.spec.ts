import { BadRequestException } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsString, ValidateNested } from 'class-validator';
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

const VALID = { name: 'Acme', seats: 3, address: { city: 'Oslo' }, contacts: [{ email: 'a@acme.com' }] };

function run(value: unknown): Promise<unknown> {
  return createValidationPipe().transform(value, { type: 'body', metatype: SignupDto });
}

/** The field errors the pipe reports for `value`; fails the test if the pipe lets it through. */
async function fieldErrors(value: unknown): Promise<FieldError[]> {
  const exception = await run(value).then(
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
    for (const body of [undefined, null, 'Acme', [VALID]]) {
      expect((await fieldErrors(body)).map((error) => error.field)).toContain('name');
    }
  });
});
