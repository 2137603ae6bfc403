import { STATUS_CODES } from 'node:http';
import { expectProblem, query } from './support/api';
import { useTestApp } from './support/test-app';

const PROBLEM_JSON = 'application/problem+json';

interface Media {
  schema: any;
  example?: any;
  examples?: Record<string, { value: any }>;
}

interface Response {
  content?: Record<string, Media>;
  headers?: Record<string, { required?: boolean }>;
  links?: Record<string, { operationId: string }>;
}

interface Operation {
  operationId: string;
  security?: Array<Record<string, string[]>>;
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, Response>;
}

interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, any>; responses: Record<string, Response> };
}

describe('OpenAPI documentation (e2e)', () => {
  const { api } = useTestApp();
  let document: Document;

  beforeAll(async () => {
    document = (await api.get('/docs-json')).body;
  });

  const operations = () =>
    Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        id: `${method.toUpperCase()} ${path}`,
        path,
        operation,
      })),
    );
  const errorResponses = () =>
    operations().flatMap(({ id, path, operation }) =>
      Object.entries(operation.responses)
        .filter(([status]) => Number(status) >= 400)
        .map(([status, response]) => ({ id, path, status: Number(status), response })),
    );
  const resolve = (schema: any) => (schema.$ref ? document.components.schemas[schema.$ref.split('/').pop()] : schema);
  const problemExample = (id: string, status: number) =>
    errorResponses().find((entry) => entry.id === id && entry.status === status)?.response.content?.[PROBLEM_JSON]
      .example;

  it('serves Swagger UI at /docs', async () => {
    const response = await api.get('/docs');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/text\/html/);
    expect(response.body).toContain('swagger-ui');
  });

  it('documents every endpoint of the contract', () => {
    expect(
      operations()
        .map(({ id }) => id)
        .sort(),
    ).toEqual([
      'DELETE /api/v1/organizations/{organization_id}',
      'DELETE /api/v1/organizations/{organization_id}/members/{member_id}',
      'DELETE /org/delete',
      'DELETE /org/members/{member_id}',
      'GET /',
      'GET /admin/me',
      'GET /api/v1/organizations',
      'GET /api/v1/organizations/{organization_id}',
      'GET /api/v1/organizations/{organization_id}/audit',
      'GET /api/v1/organizations/{organization_id}/members',
      'GET /api/v1/organizations/{organization_id}/members/{member_id}',
      'GET /health',
      'GET /health/ready',
      'GET /org/audit',
      'GET /org/get',
      'GET /org/list',
      'GET /org/members',
      'GET /org/members/{member_id}',
      'PATCH /api/v1/organizations/{organization_id}',
      'PATCH /api/v1/organizations/{organization_id}/members/{member_id}',
      'PATCH /org/members/{member_id}',
      'POST /admin/login',
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/logout',
      'POST /api/v1/auth/password',
      'POST /api/v1/auth/refresh',
      'POST /api/v1/organizations',
      'POST /api/v1/organizations/{organization_id}/members',
      'POST /auth/login',
      'POST /auth/logout',
      'POST /auth/password',
      'POST /auth/refresh',
      'POST /org/create',
      'POST /org/members',
      'PUT /org/update',
    ]);
  });

  it('documents the error responses of every endpoint as problem+json', () => {
    // The two that never touch the database, and so cannot fail.
    const infallible = ['GET /', 'GET /health'];
    for (const { id, operation } of operations().filter(({ id }) => !infallible.includes(id))) {
      const errors = Object.entries(operation.responses).filter(([status]) => Number(status) >= 400);
      expect({ id, statuses: errors.map(([status]) => status) }).toEqual({
        id,
        statuses: expect.arrayContaining(['503']),
      });
      for (const [, response] of errors) {
        expect(response.content).toHaveProperty([PROBLEM_JSON]);
      }
    }
  });

  it('gives every error status one example, with its own status and title, at the operation path', () => {
    for (const { id, path, status, response } of errorResponses()) {
      const media = response.content?.[PROBLEM_JSON] as Media;
      expect({ id, status, examples: media.examples }).toEqual({ id, status, examples: undefined });
      expect({ id, status, example: media.example }).toEqual({
        id,
        status,
        example: {
          type: 'about:blank',
          title: STATUS_CODES[status],
          status,
          detail: expect.any(String),
          instance: path,
          // Only a validation failure lists its fields.
          ...(status === 400 ? { errors: [{ field: expect.any(String), message: expect.any(String) }] } : {}),
        },
      });
      expect({ id, status, schema: resolve(media.schema).properties.errors !== undefined }).toEqual({
        id,
        status,
        schema: status === 400,
      });
    }
  });

  it('shows, as its examples, the problems the server really answers', async () => {
    const organization = await api.createOrganization('Examples');
    const answers: Array<[string, number, Promise<{ body: unknown }>]> = [
      ['GET /admin/me', 401, api.get('/admin/me')],
      ['POST /admin/login', 401, api.post('/admin/login', { json: { email: 'nobody@example.com', password: 'x' } })],
      ['GET /org/list', 403, api.get('/org/list', { token: organization.token })],
      ['GET /org/get', 404, api.get(`/org/get?${query({ organization_name: 'Nobody Here' })}`)],
      ['POST /org/create', 415, api.post('/org/create', { raw: '{}', headers: { 'content-type': 'text/plain' } })],
    ];
    for (const [id, status, answer] of answers) {
      expect({ id, body: (await answer).body }).toEqual({ id, body: problemExample(id, status) });
    }
  });

  it('documents 415 on every operation that takes a body', () => {
    const withBody = operations().filter(({ operation }) => operation.requestBody);
    expect(withBody.map(({ id }) => id).sort()).toEqual([
      'DELETE /org/delete',
      'PATCH /api/v1/organizations/{organization_id}',
      'PATCH /api/v1/organizations/{organization_id}/members/{member_id}',
      'PATCH /org/members/{member_id}',
      'POST /admin/login',
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/logout',
      'POST /api/v1/auth/password',
      'POST /api/v1/auth/refresh',
      'POST /api/v1/organizations',
      'POST /api/v1/organizations/{organization_id}/members',
      'POST /auth/login',
      'POST /auth/logout',
      'POST /auth/password',
      'POST /auth/refresh',
      'POST /org/create',
      'POST /org/members',
      'PUT /org/update',
    ]);
    for (const { id, operation } of withBody) {
      expect({ id, statuses: Object.keys(operation.responses) }).toEqual({
        id,
        statuses: expect.arrayContaining(['415']),
      });
    }
  });

  it('documents Retry-After: always on 429 and 503, sometimes on 409', () => {
    const required = { 409: false, 429: true, 503: true } as Record<number, boolean>;
    const documented = errorResponses().filter(({ status }) => status in required);
    expect(new Set(documented.map(({ status }) => status))).toEqual(new Set([409, 429, 503]));
    for (const { id, status, response } of documented) {
      expect({ id, status, header: response.headers?.['Retry-After'] }).toEqual({
        id,
        status,
        header: expect.objectContaining({ required: required[status], schema: { type: 'integer', minimum: 1 } }),
      });
    }
  });

  it('documents the 405 that any other method gets, with Allow, as the server answers it', async () => {
    const documented = document.components.responses.MethodNotAllowed;
    expect(documented.headers?.Allow).toMatchObject({ required: true });
    const response = await api.request('PATCH', '/org/create');
    expectProblem(response, 405);
    expect(response.headers.allow).toBe('POST');
    expect(response.body).toEqual(documented.content?.[PROBLEM_JSON].example);
  });

  it('closes every request body, as the validation pipe refuses unknown fields', async () => {
    for (const { id, operation } of operations().filter(({ operation }) => operation.requestBody)) {
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
        expect({ id, type, additionalProperties: resolve(media.schema).additionalProperties }).toEqual({
          id,
          type,
          additionalProperties: false,
        });
      }
    }
    const response = await api.post('/org/create', { json: { unknown: true } });
    expectProblem(response, 400);
    expect(response.body.errors).toContainEqual({ field: 'unknown', message: 'property unknown should not exist' });
  });

  it('links only to operations it documents', () => {
    const ids = new Set(operations().map(({ operation }) => operation.operationId));
    const links = operations().flatMap(({ operation }) =>
      Object.values(operation.responses).flatMap((response) => Object.values(response.links ?? {})),
    );
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      expect(ids).toContain(link.operationId);
    }
  });

  it('asks for a token exactly where one is accepted', () => {
    const secured = operations()
      .filter(({ operation }) => operation.security?.length)
      .map(({ id }) => id)
      .sort();
    expect(secured).toEqual([
      'DELETE /api/v1/organizations/{organization_id}',
      'DELETE /api/v1/organizations/{organization_id}/members/{member_id}',
      'DELETE /org/delete',
      'DELETE /org/members/{member_id}',
      'GET /admin/me',
      'GET /api/v1/organizations',
      'GET /api/v1/organizations/{organization_id}',
      'GET /api/v1/organizations/{organization_id}/audit',
      'GET /api/v1/organizations/{organization_id}/members',
      'GET /api/v1/organizations/{organization_id}/members/{member_id}',
      'GET /org/audit',
      'GET /org/get',
      'GET /org/list',
      'GET /org/members',
      'GET /org/members/{member_id}',
      'PATCH /api/v1/organizations/{organization_id}',
      'PATCH /api/v1/organizations/{organization_id}/members/{member_id}',
      'PATCH /org/members/{member_id}',
      'POST /api/v1/auth/password',
      'POST /api/v1/organizations/{organization_id}/members',
      'POST /auth/password',
      'POST /org/members',
      'PUT /org/update',
    ]);
  });

  it('shows the token as optional exactly where it is', () => {
    const optional = operations()
      .filter(({ operation }) => operation.security?.some((requirement) => Object.keys(requirement).length === 0))
      .map(({ id }) => id);
    expect(optional.sort()).toEqual(['GET /api/v1/organizations/{organization_id}', 'GET /org/get']);
    expect(document.paths['/org/get'].get.security).toEqual([{ bearer: [] }, { oauth2: [] }, {}]);
  });

  it('gives an example for every field of every request and response model', () => {
    const missing: string[] = [];
    for (const [name, schema] of Object.entries(document.components.schemas)) {
      for (const [field, property] of Object.entries<any>(schema.properties ?? {})) {
        if (property.example === undefined && property.$ref === undefined && property.items?.$ref === undefined) {
          missing.push(`${name}.${field}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('documents the organization name rules', () => {
    expect(document.components.schemas.CreateOrganizationDto.properties.organization_name).toMatchObject({
      pattern: expect.any(String),
    });
  });

  // The server trims a name before checking its length (" E" is the 1-character "E"): the schema
  // describes the raw input.
  it('accepts exactly the organization names the server accepts', async () => {
    const schema = document.components.schemas.CreateOrganizationDto.properties.organization_name;
    const documented = (name: string) =>
      new RegExp(schema.pattern).test(name) &&
      [...name].length >= (schema.minLength ?? 0) &&
      [...name].length <= (schema.maxLength ?? Infinity);
    const names = [
      'Acme Corp',
      ' Acme Corp\t',
      'ab',
      ' E',
      '0 ',
      'a',
      '  a  ',
      '-_',
      'x'.repeat(64),
      ` ${'x'.repeat(64)} `,
    ];
    for (const name of [...names, 'x'.repeat(65), 'Acme!']) {
      const response = await api.get(`/org/get?${query({ organization_name: name })}`);
      expect({ name, documented: documented(name) }).toEqual({ name, documented: response.status !== 400 });
    }
  });
});

describe('The documented request bodies (e2e)', () => {
  const { api } = useTestApp();
  let document: Document;

  beforeAll(async () => {
    document = (await api.get('/docs-json')).body;
  });

  const body = (path: string, method: string) =>
    document.paths[path][method].requestBody?.content as Record<string, Media>;
  const schemaOf = (path: string, method: string) =>
    document.components.schemas[body(path, method)['application/json'].schema.$ref.split('/').pop() as string];
  /** The oneOf branches of these schemas only list required fields: how many a body meets. */
  const branchesMet = (schema: any, value: object) =>
    schema.oneOf.filter((branch: { required: string[] }) => branch.required.every((field) => field in value)).length;
  const examples = (path: string, method: string) =>
    Object.values(body(path, method)['application/json'].examples ?? {}).map((example) => example.value);

  it('has login take the email as email or as username, never both or neither', () => {
    const schema = schemaOf('/admin/login', 'post');
    expect(schema.oneOf).toEqual([
      expect.objectContaining({ required: ['email'] }),
      expect.objectContaining({ required: ['username'] }),
    ]);
    expect(schema.required).toEqual(['password']);
    expect(schema.properties.grant_type.enum).toEqual(['', 'password']);
    expect(branchesMet(schema, { email: 'a@b.co', username: 'a@b.co' })).toBe(2);
    expect(branchesMet(schema, {})).toBe(0);
    expect(Object.keys(body('/admin/login', 'post')).sort()).toEqual([
      'application/json',
      'application/x-www-form-urlencoded',
    ]);
  });

  it('has update name the organization by exactly one of its two names, and change something', () => {
    const schema = schemaOf('/org/update', 'put');
    expect(schema.oneOf).toEqual([
      expect.objectContaining({ required: ['organization_name'] }),
      expect.objectContaining({ required: ['old_organization_name'] }),
    ]);
    // With unknown fields refused, a second field is a change.
    expect(schema).toMatchObject({ minProperties: 2, additionalProperties: false });
    expect(branchesMet(schema, { organization_name: 'A', old_organization_name: 'A' })).toBe(2);
    expect(branchesMet(schema, {})).toBe(0);
  });

  it('gives whole, valid bodies as examples', () => {
    for (const [path, method] of [
      ['/admin/login', 'post'],
      ['/org/update', 'put'],
    ]) {
      const schema = schemaOf(path, method);
      expect(examples(path, method).length).toBeGreaterThan(1);
      for (const example of examples(path, method)) {
        expect({ path, example, branches: branchesMet(schema, example) }).toEqual({ path, example, branches: 1 });
        expect(Object.keys(example).every((field) => field in schema.properties)).toBe(true);
        expect(schema.required?.every((field: string) => field in example) ?? true).toBe(true);
        expect(Object.keys(example).length).toBeGreaterThanOrEqual(schema.minProperties ?? 0);
      }
    }
  });

  it('works when sent as documented: create, then each login example in each content type, then update', async () => {
    // What Swagger UI sends for create: the fields' own examples.
    const create = schemaOf('/org/create', 'post');
    const organization = Object.fromEntries(
      Object.entries<{ example: unknown }>(create.properties).map(([field, property]) => [field, property.example]),
    );
    expect((await api.post('/org/create', { json: organization })).status).toBe(201);

    let token = '';
    for (const example of examples('/admin/login', 'post')) {
      for (const sent of [{ json: example }, { form: example }]) {
        const response = await api.post('/admin/login', sent);
        expect({ sent, status: response.status }).toEqual({ sent, status: 200 });
        token = response.body.access_token;
      }
    }

    const [rename, seedForm] = examples('/org/update', 'put');
    expect((await api.put('/org/update', { token, json: rename })).status).toBe(200);
    // The seed example names the organization by its old name, which the rename just gave up: the
    // body is still valid (no 400), there is just no organization of that name any more.
    expect((await api.put('/org/update', { token, json: seedForm })).status).toBe(404);

    // And what the schema refuses, the server refuses.
    const renamed = { organization_name: rename.new_organization_name };
    for (const refused of [
      {},
      renamed,
      { ...renamed, old_organization_name: renamed.organization_name, email: 'x@y.co' },
    ]) {
      expectProblem(await api.put('/org/update', { token, json: refused }), 400);
    }
    const both = { email: organization.email, username: organization.email, password: organization.password };
    expectProblem(await api.post('/admin/login', { json: both }), 400);
    expectProblem(await api.post('/admin/login', { json: { password: organization.password } }), 400);
  });
});
