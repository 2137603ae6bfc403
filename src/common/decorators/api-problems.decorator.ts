import { applyDecorators, HttpException, HttpStatus } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, DECORATORS } from '@nestjs/swagger';
import { ProblemDetailsDto, ValidationProblemDetailsDto } from '../dto/problem-details.dto';
import { isProblemStatus, problemResponse, ProblemStatus, typicalProblem } from '../openapi/problems';

type AnyDecorator = (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => void;

/**
 * Documents the problem+json answers of an operation, one example each, and always 503 (any operation
 * can lose the database). A status given as an exception shows that exception, what the operation
 * throws, as its example instead of the usual one. A status the catalogue (../openapi/problems.ts)
 * does not describe fails at start-up.
 */
export function ApiProblems(...problems: Array<number | HttpException>): MethodDecorator & ClassDecorator {
  const examples = new Map<ProblemStatus, unknown>();
  for (const problem of [...problems, HttpStatus.SERVICE_UNAVAILABLE as const]) {
    const status = typeof problem === 'number' ? problem : problem.getStatus();
    if (!isProblemStatus(status)) {
      throw new Error(`ApiProblems: no documentation for status ${status}`);
    }
    examples.set(status, typeof problem === 'number' ? typicalProblem(status) : problem);
  }
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDto, ValidationProblemDetailsDto),
    ...[...examples].map(([status, example]) =>
      unlessDocumented(status, ApiResponse(problemResponse(status, example))),
    ),
  );
}

/**
 * An answer is documented once: @Auth documents 401 and 403 (and 503) too, and a second ApiResponse
 * for a status would append its description to the first. Decorators apply bottom-up, so an
 * operation's own @ApiProblems, written below @Auth, has its examples kept.
 */
function unlessDocumented(
  status: number,
  decorator: MethodDecorator & ClassDecorator,
): MethodDecorator & ClassDecorator {
  const decorate: AnyDecorator = (target, key, descriptor) => {
    const documented = Reflect.getMetadata(DECORATORS.API_RESPONSE, descriptor?.value ?? target) ?? {};
    if (!(status in documented)) {
      (decorator as AnyDecorator)(target, key, descriptor);
    }
  };
  return decorate as MethodDecorator & ClassDecorator;
}
