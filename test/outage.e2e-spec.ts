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
  const member = { email: `member-${randomSuffix()}@example.com`, password: PASSWORD };
  let memberId: string;
  let refreshToken: string;

  beforeAll(async () => {
    database = await startLocalMongo({ dataFile });
    // Every request reads its token's state: GET /admin/me, which needs nothing else, too.
    testApp = await startTestApp({
      env: { MONGODB_URI: database.uri, DB_TIMEOUT_MS: '2000', TOKEN_STATE_TTL_MS: '0' },
    });
    api = new Api(() => testApp.app);
    organization = await api.createOrganization('Outage');
    const added = await api.post('/org/members', { token: organization.token, json: member });
    memberId = added.body.data.member_id;
    const login = await api.post('/auth/login', { json: { ...member, organization: organization.name } });
    refreshToken = login.body.refresh_token;
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
    ['GET /org/members', () => api.get('/org/members', { token: organization.token })],
    [
      'POST /org/members',
      () => api.post('/org/members', { token: organization.token, json: { ...member, email: `new-${member.email}` } }),
    ],
    ['GET /org/members/{member_id}', () => api.get(`/org/members/${memberId}`, { token: organization.token })],
    ['GET /org/audit', () => api.get('/org/audit', { token: organization.token })],
    ['POST /auth/login', () => api.post('/auth/login', { json: { ...member, organization: organization.name } })],
    ['POST /auth/refresh', () => api.post('/auth/refresh', { json: { refresh_token: refreshToken } })],
    ['POST /auth/logout', () => api.post('/auth/logout', { json: { refresh_token: refreshToken } })],
    [
      'POST /auth/password',
      () =>
        api.post('/auth/password', {
          token: organization.token,
          json: { current_password: PASSWORD, new_password: `${PASSWORD}x` },
        }),
    ],
    ['GET /api/v1/organizations/{id}', () => api.get(`/api/v1/organizations/${organization.id}`)],
    [
      'GET /api/v1/organizations/{id}/members',
      () => api.get(`/api/v1/organizations/${organization.id}/members`, { token: organization.token }),
    ],
    ['GET /health/ready', () => api.get('/health/ready')],
  ];

  it('answers 503 problem+json within 5 s while the database is down, then 200 once it is back', async () => {
    await database.stop();

    for (const [name, send] of requests) {
      const started = Date.now();
      const response = await send();
      expect(Date.now() - started).toBeLessThan(5000);
      expect({ name, status: response.status }).toEqual({ name, status: 503 });
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
    // Refused while the database was away, the refresh token was not used up.
    expect((await api.post('/auth/refresh', { json: { refresh_token: refreshToken } })).status).toBe(200);
  });
});
