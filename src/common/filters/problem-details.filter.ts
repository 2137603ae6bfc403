import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus, Logger } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from '../problem-details';
import { loggableError } from './loggable-error';

const logger = new Logger('ProblemDetails');

/**
 * Writes every error as application/problem+json; never leaks stack traces or driver messages.
 * Nest hands it Fastify's own errors too (body parsing, size limits) as HttpExceptions.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    send(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }
}

function send(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const instance = request.url.split('?')[0];
  const { body, retryAfterSeconds } = toProblem(exception, instance);
  if (body.status === HttpStatus.INTERNAL_SERVER_ERROR) {
    logger.error({ msg: `${request.method} ${instance} failed`, error: loggableError(exception) });
  } else if (body.status === HttpStatus.SERVICE_UNAVAILABLE) {
    logger.warn(`${request.method} ${instance}: ${exception instanceof Error ? exception.message : body.detail}`);
  }
  if (retryAfterSeconds !== undefined) {
    void reply.header('retry-after', String(retryAfterSeconds));
  }
  void reply.status(body.status).type('application/problem+json; charset=utf-8').send(JSON.stringify(body));
}
