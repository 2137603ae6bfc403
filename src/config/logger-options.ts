import { LoggerService, RequestMethod } from '@nestjs/common';
import { Params } from 'nestjs-pino';
import PinoPretty from 'pino-pretty';
import { Environment } from './environment';

/**
 * The one pino logger, for Nest's logs and pino-http's request lines. In development it prints
 * readable lines (pino-pretty, synchronously in this process, so that nothing is lost when a start
 * fails); in production and test, one JSON object a line.
 *
 * Request lines keep the request (method, url, headers without authorization and cookies), the
 * status and the response time, but not the response headers.
 */
export function loggerOptions(env: Environment): Params {
  const options = {
    level: env.LOG_LEVEL,
    autoLogging: env.NODE_ENV !== 'test',
    serializers: { req: withoutCredentials, res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }) },
  };
  if (env.NODE_ENV !== 'development') {
    return { pinoHttp: options, forRoutes: EVERY_ROUTE };
  }
  const pretty = PinoPretty({
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,context,req,res,responseTime',
    messageFormat: readableMessage,
  });
  return { pinoHttp: [options, pretty], forRoutes: EVERY_ROUTE };
}

const CREDENTIAL_HEADERS = ['authorization', 'cookie'];

/**
 * The request as pino-http serializes it, its credential headers replaced: cheaper than pino's
 * `redact`, which clones the whole request line for every request.
 */
function withoutCredentials<R extends { headers: Record<string, unknown> }>(req: R): R {
  const headers = { ...req.headers };
  for (const name of CREDENTIAL_HEADERS) {
    if (headers[name] !== undefined) {
      headers[name] = '[Redacted]';
    }
  }
  return { ...req, headers };
}

/**
 * Every path, `/` included. nestjs-pino's default (`{/*splat}`) matches only `/` under Nest 12 with
 * Fastify, which left every other request unlogged and without its request id.
 */
const EVERY_ROUTE = [{ path: '/{*path}', method: RequestMethod.ALL }];

/** `[Context] message`, and a request line as `request completed: GET /org/get 200 in 4 ms`. */
const readableMessage: PinoPretty.MessageFormatFunc = (log, messageKey) => {
  const message = String(log[messageKey] ?? '');
  const req = log.req as { method?: string; url?: string } | undefined;
  const res = log.res as { statusCode?: number } | undefined;
  if (req && res) {
    return `${message}: ${req.method} ${req.url} ${res.statusCode ?? '-'} in ${log.responseTime} ms`;
  }
  return typeof log.context === 'string' ? `[${log.context}] ${message}` : message;
};

/** Nest's start-up chatter: one line per module, controller and route. */
const START_UP_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/**
 * Nest's own start-up lines at debug level (`LOG_LEVEL=debug` shows them again), so that a start
 * says only what matters, ending with where the service listens (main.ts). Their warnings and
 * errors (but a failed listen), and every other log, are passed on unchanged.
 */
export class QuietStartupLogger implements LoggerService {
  constructor(private readonly logger: LoggerService) {}

  log(message: unknown, ...optionalParams: unknown[]): void {
    const context = optionalParams.at(-1);
    if (typeof context === 'string' && START_UP_CONTEXTS.has(context)) {
      this.logger.debug?.(message, ...optionalParams);
      return;
    }
    this.logger.log(message, ...optionalParams);
  }

  /** A failed listen is reported by main.ts, in one line that says what to change: not twice. */
  error(message: unknown, ...optionalParams: unknown[]): void {
    if (optionalParams.at(-1) === 'NestApplication' && /^Error: listen E[A-Z]+\b/.test(String(message))) {
      this.logger.debug?.(message, ...optionalParams);
      return;
    }
    this.logger.error(message, ...optionalParams);
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.logger.warn(message, ...optionalParams);
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.logger.debug?.(message, ...optionalParams);
  }

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.logger.verbose?.(message, ...optionalParams);
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    (this.logger.fatal ?? this.logger.error).call(this.logger, message, ...optionalParams);
  }
}
