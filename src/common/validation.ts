import { ArgumentMetadata, BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError } from './problem-details';

/** No request of this API nests deeper; far deeper input would overflow class-transformer's recursion. */
const MAX_NESTING = 8;

class BoundedValidationPipe extends ValidationPipe {
  transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
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
    validationError: { target: false, value: false },
    exceptionFactory: (errors) =>
      new BadRequestException({ message: 'Request validation failed', errors: flatten(errors) }),
  });
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
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
