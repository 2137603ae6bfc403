import { ArgumentMetadata, BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError } from './problem-details';

/** No request of this API nests deeper; far deeper input would overflow class-transformer's recursion. */
const MAX_NESTING = 8;

class BoundedValidationPipe extends ValidationPipe {
  transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // A JSON body of null is a body, refused like [] or 1: the pipe would take it for no body at all ({}),
    // which passes where every field is optional (DELETE /org/delete).
    if (metadata.type === 'body' && metadata.data === undefined && value === null) {
      return Promise.reject(validationFailed([{ field: 'body', message: 'body must be a JSON object' }]));
    }
    if (nestsDeeperThan(value, MAX_NESTING)) {
      throw new BadRequestException('Request is nested too deeply');
    }
    return super.transform(value, metadata);
  }
}

/** The one global pipe: unknown fields, operator objects and wrong types are all a 400. */
export function createValidationPipe(): ValidationPipe {
  return new BoundedValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    // The value tells a missing field from a wrong one; it never leaves flatten() below.
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => validationFailed(flatten(errors)),
  });
}

/** The 400 of a request that breaks field rules, whether the pipe or a handler found them. */
export function validationFailed(errors: FieldError[]): BadRequestException {
  return new BadRequestException({ message: 'Request validation failed', errors });
}

/**
 * One `{field, message}` per broken rule, with dotted paths for nested fields; except that a missing
 * field gets exactly one message, `<field> is required`, rather than every rule its absent value
 * breaks ("email must be an email", "email must be shorter than..."). Optional fields (@Optional,
 * @IsOptional, @ValidateIf) are not validated when absent, so an error on an undefined value always
 * means a required field is missing.
 */
function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    if (isMissing(error)) {
      return [{ field, message: `${error.property} is required` }];
    }
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** A rule broken by an absent value; an unknown property (whitelist) is never "required". */
function isMissing(error: ValidationError): boolean {
  const rules = Object.keys(error.constraints ?? {});
  return error.value === undefined && rules.length > 0 && !rules.includes('whitelistValidation');
}

/** Iterative, so that the check itself cannot overflow the stack. */
function nestsDeeperThan(root: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[root, 0]];
  while (pending.length > 0) {
    const [value, depth] = pending.pop() as [unknown, number];
    if (value === null || typeof value !== 'object') {
      continue;
    }
    if (depth >= limit) {
      return true;
    }
    for (const child of Object.values(value)) {
      pending.push([child, depth + 1]);
    }
  }
  return false;
}
