import { expectProblem, PASSWORD, query } from './support/api';
import { useTestApp } from './support/test-app';

/** Rows of the API contract (../shared/API.md) that no feature suite owns. */

describe('A known path with a wrong method (e2e)', () => {
  const { api } = useTestApp();

  it.each([
    ['PATCH', '/org/create', 'POST'],
    ['GET', '/org/create', 'POST'],
    ['POST', '/org/get', 'GET, HEAD'],
    ['DELETE', '/org/list?page=1', 'GET, HEAD'],
    ['POST', '/org/update', 'PUT'],
    ['GET', `/org/delete?${query({ organization_name: 'Acme Corp' })}`, 'DELETE'],
    ['PUT', '/admin/login', 'POST'],
    ['DELETE', '/admin/me', 'GET, HEAD'],
    ['POST', '/health/ready', 'GET, HEAD'],
    ['PUT', '/', 'GET, HEAD'],
    ['POST', '/docs-json', 'GET, HEAD'],
    ['OPTIONS', '/org/create', 'POST'],
  ])('answers %s %s with 405 and Allow: %s', async (method, url, allow) => {
    const response = await api.request(method, url);
    expectProblem(response, 405);
    expect(response.headers.allow).toBe(allow);
    expect(response.body.instance).toBe(url.split('?')[0]);
    expect(response.body.detail).toContain(allow);
  });

  it('answers 405 before it asks for a token or a body', async () => {
    const response = await api.request('PATCH', '/org/update', { json: { organization_name: 'Acme Corp' } });
    expectProblem(response, 405);
    expect(response.headers.allow).toBe('PUT');
  });

  it.each([
    ['GET', '/nope'],
    ['PATCH', '/nope'],
    ['POST', '/org/nope'],
    ['GET', '/org'],
    ['GET', '/org/create/extra'],
    ['GET', '/ORG/GET'],
    ['OPTIONS', '/nope'],
  ])('still answers %s %s, an unknown path, with 404', async (method, url) => {
    const response = await api.request(method, url);
    expectProblem(response, 404);
    expect(response.headers).not.toHaveProperty('allow');
  });

  it('answers a path it cannot decode with 400, whatever the method', async () => {
    for (const method of ['GET', 'PATCH']) {
      // Fastify's own answer, before routing (and not yet problem+json).
      const response = await api.request(method, '/org/%E0%A4%A');
      expect(response.status).toBe(400);
      expect(response.headers).not.toHaveProperty('allow');
    }
  });
});

describe('A body that is neither JSON nor a form (e2e)', () => {
  const { api } = useTestApp();

  it.each([
    ['POST', '/org/create', 'text/plain'],
    ['POST', '/org/create', 'text/plain; charset=utf-8'],
    ['POST', '/admin/login', 'text/plain'],
    ['POST', '/org/create', 'application/xml'],
  ])('answers %s %s with %s with 415', async (method, url, contentType) => {
    const raw = JSON.stringify({ organization_name: 'Plain Text', email: 'plain@example.com', password: PASSWORD });
    expectProblem(await api.request(method, url, { raw, headers: { 'content-type': contentType } }), 415);
  });

  it('answers 415 on PUT and DELETE too, with a valid token', async () => {
    const organization = await api.createOrganization('Plain');
    const headers = { 'content-type': 'text/plain' };
    const raw = JSON.stringify({ organization_name: organization.name });
    expectProblem(await api.put('/org/update', { token: organization.token, raw, headers }), 415);
    expectProblem(await api.delete('/org/delete', { token: organization.token, raw, headers }), 415);
    expect((await api.get(`/org/get?${query({ organization_name: organization.name })}`)).status).toBe(200);
  });

  it('still deletes with no body and no content type at all, by the query', async () => {
    const organization = await api.createOrganization('No Body');
    const response = await api.delete(`/org/delete?${query({ organization_name: organization.name })}`, {
      token: organization.token,
    });
    expect(response.status).toBe(200);
    expect(response.body.data.organization_name).toBe(organization.name);
  });
});

describe('The OAuth2 password form (e2e)', () => {
  const { api } = useTestApp();

  // What FastAPI's OAuth2PasswordRequestForm clients and Swagger's Authorize dialog send.
  const form = (username: string, grantType?: string) => ({
    ...(grantType === undefined ? {} : { grant_type: grantType }),
    username,
    password: PASSWORD,
    scope: '',
    client_id: '',
    client_secret: '',
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['password', 'password'],
  ])('accepts grant_type %s', async (_, grantType) => {
    const organization = await api.createOrganization('Grant');
    const response = await api.post('/admin/login', { form: form(organization.email, grantType) });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ token_type: 'bearer', organization_id: organization.id });
  });

  it.each(['client_credentials', 'Password', ' password', 'authorization_code'])(
    'refuses grant_type %j (400)',
    async (grantType) => {
      const organization = await api.createOrganization('Bad Grant');
      const response = await api.post('/admin/login', { form: form(organization.email, grantType) });
      expectProblem(response, 400);
      expect(response.body.errors).toEqual([expect.objectContaining({ field: 'grant_type' })]);
    },
  );

  it('refuses a JSON null grant_type (400)', async () => {
    const organization = await api.createOrganization('Null Grant');
    expectProblem(
      await api.post('/admin/login', { json: { email: organization.email, password: PASSWORD, grant_type: null } }),
      400,
    );
  });
});

describe('DELETE /org/delete with a body that is not an object (e2e)', () => {
  const { api } = useTestApp();

  it.each([
    ['null', 'null'],
    ['an array', '[]'],
    ['a number', '1'],
    ['a string', '"x"'],
  ])('refuses %s (400), with or without the name in the query, and deletes nothing', async (_, raw) => {
    const organization = await api.createOrganization('Not Object');
    const byQuery = `/org/delete?${query({ organization_name: organization.name })}`;
    const headers = { 'content-type': 'application/json' };
    expectProblem(await api.delete('/org/delete', { token: organization.token, raw, headers }), 400);
    expectProblem(await api.delete(byQuery, { token: organization.token, raw, headers }), 400);
    expect((await api.get(`/org/get?${query({ organization_name: organization.name })}`)).status).toBe(200);
  });

  it('still deletes by the query with no body', async () => {
    const organization = await api.createOrganization('Query Only');
    const response = await api.delete(`/org/delete?${query({ organization_name: organization.name })}`, {
      token: organization.token,
    });
    expect(response.status).toBe(200);
  });
});

describe('ReDoc at /redoc (e2e)', () => {
  const { api } = useTestApp();
  const ORIGIN = 'http://service';

  const scriptsOf = (page: string) => [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];

  it('serves a page that loads ReDoc from this service only, pointed at /docs-json', async () => {
    const response = await api.get('/redoc');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    const page = String(response.body);
    const scripts = scriptsOf(page);
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, inline] of scripts) {
      // No inline script: the CSP allows same-origin script files only.
      expect(inline.trim()).toBe('');
      const source = /\bsrc="([^"]+)"/.exec(attributes)?.[1] as string;
      expect(new URL(source, `${ORIGIN}/redoc`).origin).toBe(ORIGIN);
    }
    const specUrl = /spec-url="([^"]+)"/.exec(page)?.[1] as string;
    expect(new URL(specUrl, `${ORIGIN}/redoc`).pathname).toBe('/docs-json');
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*(unsafe-inline|https?:|\*)/);
  });

  it('serves the ReDoc script it references', async () => {
    const page = String((await api.get('/redoc')).body);
    for (const [, attributes] of scriptsOf(page)) {
      const source = /\bsrc="([^"]+)"/.exec(attributes)?.[1] as string;
      const asset = await api.get(new URL(source, `${ORIGIN}/redoc`).pathname);
      expect(asset.status).toBe(200);
      expect(asset.headers['content-type']).toMatch(/^(application|text)\/javascript/);
      expect(String(asset.body).length).toBeGreaterThan(100_000);
    }
  });

  it('is linked from GET /', async () => {
    const root = await api.get('/');
    expect(root.body.links).toMatchObject({ redoc: '/redoc' });
    expect((await api.get(root.body.links.redoc)).status).toBe(200);
  });
});
