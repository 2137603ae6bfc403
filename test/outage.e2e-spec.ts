import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalMongo, startLocalMongo } from '../tools/local-mongo';
import { Api, ApiResponse, expectProblem, Organization, PASSWORD, query } from './support/api';
import { eventually } from './support/eventually';
import { randomSuffix } from './support/random';
import { startTestApp, TestApp } from './support/test-app';

/** This suite stops and restarts a database of its own, so the shared one is never disturbed. */
describe('Database outage (e2e)', () => {
  const dataFile = join(tmpdir(), `org-service-outage-${randomSuffix()}.mv`);
  let database: LocalMongo;
  let testApp: TestApp;
  let api: Api;
  let organization: Organization;

  beforeAll(async () => {
    database = await startLocalMongo({ dataFile });
    testApp = await startTestApp({ env: { MONGODB_URI: database.uri, DB_TIMEOUT_MS: '2000' } });
    api = new Api(() => testApp.app);
    organization = await api.createOrganization('Outage');
  });

  afterAll(async () => {
    await testApp.close();
    await database.stop();
    rmSync(dataFile, { force: true });
  });

  const requests: Array<[string, () => Promise<ApiResponse>]> = [
    ['GET /org/get', () => api.get(`/org/get?${query({ organization_name: organization.name })}`)],
    ['POST /org/create', () => api.createOrganizationRequest(`Created During Outage ${randomSuffix()}`)],
    ['POST /admin/login', () => api.post('/admin/login', { json: { email: organization.email, password: PASSWORD } })],
    ['GET /admin/me', () => api.get('/admin/me', { token: organization.token })],
    ['GET /org/list', () => api.get('/org/list', { token: organization.token })],
    [
      'PUT /org/update',
      () =>
        api.put('/org/update', {
          token: organization.token,
          json: { organization_name: organization.name, new_organization_name: `Renamed ${randomSuffix()}` },
        }),
    ],
    [
      'DELETE /org/delete',
      () => api.delete(`/org/delete?${query({ organization_name: organization.name })}`, { token: organization.token }),
    ],
    ['GET /health/ready', () => api.get('/health/ready')],
  ];

  it('answers 503 problem+json within 5 s while the database is down, then 200 once it is back', async () => {
    await database.stop();

    for (const [, send] of requests) {
      const started = Date.now();
      const response = await send();
      expect(Date.now() - started).toBeLessThan(5000);
      expectProblem(response, 503);
      expect(response.headers['retry-after']).toBeDefined();
      expect(JSON.stringify(response.body)).not.toMatch(/mongodb:\/\/|127\.0\.0\.1|Mongo\w*Error/);
    }
    expect((await api.get('/health')).status).toBe(200);

    database = await startLocalMongo({ port: database.port, dataFile });
    await eventually(async () => {
      expect((await api.get('/health/ready')).status).toBe(200);
    });
    const recovered = await api.get(`/org/get?${query({ organization_name: organization.name })}`);
    expect(recovered.status).toBe(200);
    expect((await api.get('/admin/me', { token: organization.token })).status).toBe(200);
    await api.login(organization.email);
  });
});
