import { createReadStream } from 'node:fs';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { OPENAPI_JSON_PATH, REDOC_PATH, SERVICE_NAME } from './service-info';

/** ReDoc's self-contained browser bundle, from the npm package: served by this service, no CDN. */
const REDOC_BUNDLE = require.resolve('redoc/bundles/redoc.standalone.js');
const REDOC_SCRIPT_PATH = `${REDOC_PATH}/redoc.standalone.js`;

/**
 * The page: ReDoc initialises itself from the <redoc spec-url> element, so there is no inline script
 * (the CSP allows same-origin script files only). Its URLs are relative to the page's own, so that it
 * also works behind a proxy that serves the service under a path prefix.
 */
const REDOC_PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${SERVICE_NAME} - ReDoc</title>
  </head>
  <body>
    <redoc spec-url="${OPENAPI_JSON_PATH}"></redoc>
    <script src="${REDOC_SCRIPT_PATH}"></script>
  </body>
</html>
`;

/** GET /redoc: the OpenAPI document of /docs-json, as ReDoc shows it. */
export function setUpRedoc(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.get(`/${REDOC_PATH}`, async (_request, reply) => reply.type('text/html; charset=utf-8').send(REDOC_PAGE));
  fastify.get(`/${REDOC_SCRIPT_PATH}`, async (_request, reply) =>
    reply
      .type('application/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=86400')
      .send(createReadStream(REDOC_BUNDLE)),
  );
}
