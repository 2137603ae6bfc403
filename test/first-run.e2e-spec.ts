import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiResponse, expectProblem } from './support/api';
import { useTestApp } from './support/test-app';

/**
 * A newcomer's first minutes: Swagger UI opened from another machine, `GET /`, and a first mistaken
 * request. What `npm start` prints is in start-up.e2e-spec.ts.
 */

const LAN_HOST = '192.168.1.20:3000';
const ROOT = join(__dirname, '..');
const { version: PACKAGE_VERSION } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
};

/** The paths of the scripts, stylesheets and icons the Swagger UI page at /docs loads. */
function assetsOf(page: string): string[] {
  const sources = [...page.matchAll(/<(?:script|link)[^>]*(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
  return sources.map((source) => new URL(source, 'http://service/docs').pathname);
}

function expectNoUpgrade(response: ApiResponse): void {
  const csp = String(response.headers['content-security-policy']);
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('upgrade-insecure-requests');
  expect(response.headers).not.toHaveProperty('strict-transport-security');
}

function expectUpgrade(response: ApiResponse): void {
  const csp = String(response.headers['content-security-policy']);
  expect(csp).toContain("default-src 'self'");
  expect(csp.split(';').filter((directive) => directive.trim() === 'upgrade-insecure-requests')).toHaveLength(1);
  expect(response.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
}

describe('Swagger UI over plain HTTP (e2e)', () => {
  const { api } = useTestApp();

  it('loads at a LAN address: no upgrade-insecure-requests, no HSTS, on the page and its assets', async () => {
    const docs = await api.get('/docs', { headers: { host: LAN_HOST } });
    expect(docs.status).toBe(200);
    expectNoUpgrade(docs);
    const assets = assetsOf(String(docs.body));
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      const response = await api.get(asset, { headers: { host: LAN_HOST } });
      expect({ asset, status: response.status }).toEqual({ asset, status: 200 });
      expectNoUpgrade(response);
    }
  });

  it('believes no X-Forwarded-Proto without TRUST_PROXY', async () => {
    expectNoUpgrade(await api.get('/docs', { headers: { host: LAN_HOST, 'x-forwarded-proto': 'https' } }));
  });
});

describe('Behind a trusted TLS proxy (e2e)', () => {
  const { api } = useTestApp({ env: { TRUST_PROXY: 'true' } });

  it('sends HSTS and upgrade-insecure-requests when the proxy says the request came over https', async () => {
    expectUpgrade(await api.get('/docs', { headers: { host: 'api.example.com', 'x-forwarded-proto': 'https' } }));
    expectUpgrade(await api.get('/health', { headers: { 'x-forwarded-proto': 'https' } }));
  });

  it('sends neither when it says http, or says nothing', async () => {
    expectNoUpgrade(await api.get('/docs', { headers: { host: LAN_HOST, 'x-forwarded-proto': 'http' } }));
    expectNoUpgrade(await api.get('/docs', { headers: { host: LAN_HOST } }));
  });
});

describe('GET / (e2e)', () => {
  const { api } = useTestApp();

  it('answers anyone with the service name, its version and the links to the API docs', async () => {
    const response = await api.get('/');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({
      name: 'Organization Management Service',
      version: PACKAGE_VERSION,
      links: { docs: '/docs', openapi: '/docs-json', redoc: '/redoc' },
    });
    for (const link of Object.values<string>(response.body.links)) {
      expect({ link, status: (await api.get(link)).status }).toEqual({ link, status: 200 });
    }
  });

  it('is documented in the OpenAPI document, with an example for every field, and asks for no token', async () => {
    const document = (await api.get('/docs-json')).body;
    const operation = document.paths['/'].get;
    expect(operation.security ?? []).toEqual([]);
    expect(operation.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/RootDto',
    });
    const { RootDto, RootLinksDto } = document.components.schemas;
    expect(RootDto.properties).toMatchObject({
      name: { example: 'Organization Management Service' },
      version: { example: expect.any(String) },
      links: { $ref: '#/components/schemas/RootLinksDto' },
    });
    expect(RootLinksDto.properties).toMatchObject({
      docs: { example: '/docs' },
      openapi: { example: '/docs-json' },
      redoc: { example: '/redoc' },
    });
  });
});

describe('A missing field (e2e)', () => {
  const { api } = useTestApp();

  it('gets exactly one message, "<field> is required", for each missing field', async () => {
    const response = await api.post('/org/create', { json: {} });
    expectProblem(response, 400);
    expect(response.body.errors).toEqual([
      { field: 'organization_name', message: 'organization_name is required' },
      { field: 'email', message: 'email is required' },
      { field: 'password', message: 'password is required' },
    ]);
  });

  it('keeps the specific messages of a field that is there but wrong', async () => {
    const response = await api.post('/org/create', {
      json: { organization_name: 'Acme Corp', email: 'x'.repeat(300), password: 'short' },
    });
    expectProblem(response, 400);
    expect(response.body.errors).toEqual(
      expect.arrayContaining([
        { field: 'email', message: 'email must be an email' },
        { field: 'email', message: 'email must be shorter than or equal to 254 characters' },
        { field: 'password', message: 'password must be at least 8 characters' },
      ]),
    );
    expect(JSON.stringify(response.body.errors)).not.toContain('is required');
  });
});
