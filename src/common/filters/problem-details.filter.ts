import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpStatus,
  Logger,
  MethodNotAllowedException,
  NotFoundException,
} from '@nestjs/common';
import { FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
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
  // is404: Fastify's own not-found, for a method it has no route table for (QUERY).
  if (exception instanceof NotFoundException || request.is404) {
    const allowed = allowedMethods(request);
    if (allowed.length > 0) {
      void reply.header('allow', allowed.join(', '));
      exception = new MethodNotAllowedException(`${request.method} is not allowed here; use ${allowed.join(', ')}`);
    }
  }
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

/**
 * A known path asked with a wrong method is a 405 with Allow, not the router's 404: the methods the
 * router serves at this path, when it matched none for the request's own (request.is404 tells the
 * router's 404 from a handler's, such as "Organization not found"). A method served at every path by a
 * catch-all route (CORS's OPTIONS *) says nothing about this path, and is left out.
 */
function allowedMethods(request: FastifyRequest): string[] {
  if (!request.is404) {
    return [];
  }
  const server = request.server;
  const allowed = server.supportedMethods
    .map((method) => method as HTTPMethods)
    .filter(
      (method) =>
        routeExists(() => server.findRoute({ method, url: request.url }) !== null) &&
        !server.hasRoute({ method, url: '*' }) &&
        !server.hasRoute({ method, url: '/*' }),
    )
    .sort();
  // Nest also sends requests the router matched but its routes refuse (an empty path parameter) here.
  return allowed.includes(request.method) ? [] : allowed;
}

/** The router's own lookup; a target it cannot decode is no known path. */
function routeExists(lookUp: () => boolean): boolean {
  try {
    return lookUp();
  } catch {
    return false;
  }
}
