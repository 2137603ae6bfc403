import { useTestApp } from './support/test-app';

interface Operation {
  security?: Array<Record<string, string[]>>;
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

describe('OpenAPI documentation (e2e)', () => {
  const { api } = useTestApp();
  let document: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, any> } };

  beforeAll(async () => {
    document = (await api.get('/docs-json')).body;
  });

  const operations = () =>
    Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ id: `${method.toUpperCase()} ${path}`, operation })),
    );

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
      'DELETE /org/delete',
      'GET /',
      'GET /admin/me',
      'GET /health',
      'GET /health/ready',
      'GET /org/get',
      'GET /org/list',
      'POST /admin/login',
      'POST /org/create',
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
        expect(response.content).toHaveProperty(['application/problem+json']);
      }
    }
  });

  it('asks for a token exactly where one is accepted', () => {
    const secured = operations()
      .filter(({ operation }) => operation.security?.length)
      .map(({ id }) => id)
      .sort();
    expect(secured).toEqual([
      'DELETE /org/delete',
      'GET /admin/me',
      'GET /org/get',
      'GET /org/list',
      'PUT /org/update',
    ]);
  });

  it('shows the token as optional exactly where it is', () => {
    const optional = operations()
      .filter(({ operation }) => operation.security?.some((requirement) => Object.keys(requirement).length === 0))
      .map(({ id }) => id);
    expect(optional).toEqual(['GET /org/get']);
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
      minLength: 2,
      maxLength: 64,
      pattern: expect.any(String),
    });
  });
});
