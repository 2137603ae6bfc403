import { randomUUID } from 'node:crypto';
import { Server } from 'node:http';
import { Socket } from 'node:net';
import { VersioningType } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { FastifyHttpOptions } from 'fastify';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { BEARER_SCHEME, OAUTH2_SCHEME } from './auth/decorators/auth.decorator';
import { ProblemDetailsFilter } from './common/filters/problem-details.filter';
import { finishDocument, METHOD_NOT_ALLOWED } from './common/openapi/document';
import { createValidationPipe } from './common/validation';
import { Environment } from './config/environment';
import { QuietStartupLogger } from './config/logger-options';
import { setUpRedoc } from './root/redoc';
import { DOCS_PATH, OPENAPI_JSON_PATH, SERVICE_NAME, SERVICE_VERSION } from './root/service-info';

export function fastifyOptions(env: Environment): FastifyHttpOptions<Server> {
  return {
    bodyLimit: env.BODY_LIMIT_BYTES,
    trustProxy: trustProxySetting(env.TRUST_PROXY),
    // Slow clients may not hold a connection open indefinitely: a request must arrive whole within
    // the timeout (else 408, also for a connection that sends nothing). Node reads requestTimeout for
    // the body only when the server is created with it, and checks every second instead of every 30 s.
    // No connectionTimeout: it is a socket inactivity timer that would also cut off a request whose
    // handler is still working (a long rename) without an answer.
    requestTimeout: env.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: 5_000,
    // Unique across restarts and instances: the audit trail and the logs name requests by it.
    genReqId: () => randomUUID(),
    // Router parameters as long as a request line can be: a long id is the validator's 400, not
    // the router's own 414 (which would not be problem+json).
    routerOptions: { maxParamLength: MAX_REQUEST_LINE_BYTES },
    http: { requestTimeout: env.REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1_000 },
  };
}

const API_VERSION_PREFIX = 'api/v';

/** Node's own limit on a request's header block, the request line included. */
const MAX_REQUEST_LINE_BYTES = 16_384;

/** Everything main.ts and the e2e tests share, so that tests exercise the real configuration. */
export async function configureApp(app: NestFastifyApplication, env: Environment): Promise<void> {
  app.useLogger(new QuietStartupLogger(app.get(Logger)));
  sendSecurityHeaders(app);
  upgradeOnlyOverTls(app);
  app.enableCors({ origin: env.CORS_ORIGINS ? env.CORS_ORIGINS.split(',').map((origin) => origin.trim()) : false });
  // `/api/v1/...` beside the seed paths, which have no version.
  app.enableVersioning({ type: VersioningType.URI, prefix: API_VERSION_PREFIX });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());
  acceptOnlyJsonAndForms(app);
  app.enableShutdownHooks();
  closeStalledAnswers(app, env.REQUEST_TIMEOUT_MS);
  answerWithRequestId(app);
  setUpSwagger(app);
  setUpRedoc(app);
}

/**
 * Bodies are JSON or forms (the parsers Nest registers); any other content type is a 415. Fastify
 * would otherwise parse text/plain into a string, which validation then refused with a 400.
 */
function acceptOnlyJsonAndForms(app: NestFastifyApplication): void {
  app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
}

/** Every answer names its request, as the logs and the audit trail do. */
function answerWithRequestId(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request, reply) => {
      reply.header('x-request-id', request.id);
    });
}

/**
 * A client that stops reading its answer may not hold the connection either: once an answer is on
 * its way, the connection is closed after `timeoutMs` without progress. (The handler's own time is
 * not counted; Node's keep-alive timeout takes over once the answer is out.)
 */
function closeStalledAnswers(app: NestFastifyApplication, timeoutMs: number): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onSend', async (request, _reply, payload) => {
      // Only a real connection: Fastify's injected requests have none.
      if (request.raw.socket instanceof Socket) {
        request.raw.socket.setTimeout(timeoutMs);
      }
      return payload;
    });
}

/**
 * Helmet's headers on every answer, from one middleware made once: @fastify/helmet makes a new one,
 * parsing the whole policy again, for every request.
 */
function sendSecurityHeaders(app: NestFastifyApplication): void {
  const securityHeaders = helmet({ hsts: false, contentSecurityPolicy: { directives: SWAGGER_UI_CSP } });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) =>
      securityHeaders(request.raw, reply.raw, (error) => done(error as Error | undefined)),
    );
}

/**
 * Swagger UI at /docs needs its inline styles and the validator badge; ReDoc at /redoc inline styles
 * too, and its search runs in a worker it creates from a blob: URL. Everything else stays
 * same-origin. upgrade-insecure-requests is added per request, over TLS only (upgradeOnlyOverTls).
 */
const SWAGGER_UI_CSP = {
  defaultSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
  scriptSrc: ["'self'"],
  workerSrc: ["'self'", 'blob:'],
  upgradeInsecureRequests: null,
};

/** Helmet's own default. */
const HSTS = 'max-age=31536000; includeSubDomains';

/**
 * HSTS and the CSP's upgrade-insecure-requests only on answers served over TLS: directly, or behind
 * a trusted proxy that says so in X-Forwarded-Proto (Fastify's request.protocol honours TRUST_PROXY).
 * Over plain HTTP they would send a browser to https:// for Swagger UI's own assets, and so leave
 * /docs a blank page at a LAN or VM address (browsers exempt only localhost).
 */
function upgradeOnlyOverTls(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request, reply) => {
      if (request.protocol !== 'https') {
        return;
      }
      // Helmet writes its headers straight onto the raw response, in an onRequest hook registered
      // before this one.
      reply.raw.setHeader('strict-transport-security', HSTS);
      const csp = reply.raw.getHeader('content-security-policy');
      if (typeof csp === 'string' && !/(^|;)\s*upgrade-insecure-requests/.test(csp)) {
        reply.raw.setHeader('content-security-policy', `${csp};upgrade-insecure-requests`);
      }
    });
}

function trustProxySetting(value: string): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (value === 'true' || value === 'false') {
    return value === 'true';
  }
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return value.split(',').map((address) => address.trim());
}

function setUpSwagger(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle(SERVICE_NAME)
    .setDescription(
      'Multi-tenant organization management: every organization gets its own storage, and its admin ' +
        'logs in for a bearer token. Errors are RFC 9457 problem details (application/problem+json). ' +
        `A documented path asked with a method it does not serve answers 405 with Allow ` +
        `(#/components/responses/${METHOD_NOT_ALLOWED}).`,
    )
    .setVersion(SERVICE_VERSION)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER_SCHEME)
    .addOAuth2({ type: 'oauth2', flows: { password: { tokenUrl: '/admin/login', scopes: {} } } }, OAUTH2_SCHEME)
    .build();
  const document = finishDocument(SwaggerModule.createDocument(app, config));
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: OPENAPI_JSON_PATH });
}
