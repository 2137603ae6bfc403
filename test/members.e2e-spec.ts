import { expectProblem, PASSWORD } from './support/api';
import { useTestApp } from './support/test-app';

describe('Members (e2e)', () => {
  const { api } = useTestApp();

  it('adds a member who logs in to its organization, and lists the first admin first', async () => {
    const acme = await api.createOrganization('Acme');
    const added = await api.post('/org/members', { token: acme.token, json: { email: 'jane@example.com', password: PASSWORD } });
    expect(added.status).toBe(201);
    expect(added.body.data).toMatchObject({ email: 'jane@example.com', role: 'member', is_owner: false });
    const list = await api.get('/org/members', { token: acme.token });
    expect(list.status).toBe(200);
    expect(list.body.data.items.map((m: { email: string }) => m.email)).toEqual([acme.email, 'jane@example.com']);
    const login = await api.post('/auth/login', { json: { email: 'jane@example.com', password: PASSWORD, organization: acme.name } });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ role: 'member', organization_id: acme.id, refresh_token: expect.any(String) });
    const me = await api.get('/admin/me', { token: login.body.access_token });
    expect(me.body.data).toMatchObject({ role: 'member', is_member: true, email: 'jane@example.com' });
    expectProblem(await api.get('/org/members', { token: login.body.access_token }), 403);
    const v1 = await api.get(`/api/v1/organizations/${acme.id}/members`, { token: acme.token });
    expect(v1.body.data.total).toBe(2);
    const audit = await api.get('/org/audit', { token: acme.token });
    expect(audit.status).toBe(200);
    expect(audit.body.data.items.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['organization.created', 'member.added', 'login.succeeded']),
    );
    const refreshed = await api.post('/api/v1/auth/refresh', { json: { refresh_token: login.body.refresh_token } });
    expect(refreshed.status).toBe(200);
    expectProblem(await api.post('/auth/refresh', { json: { refresh_token: login.body.refresh_token } }), 401);
    expectProblem(await api.post('/auth/refresh', { json: { refresh_token: refreshed.body.refresh_token } }), 401);
    const removed = await api.delete(`/org/members/${added.body.data.member_id}`, { token: acme.token });
    expect(removed.status).toBe(200);
    expectProblem(await api.get('/admin/me', { token: login.body.access_token }), 401);
  });
});
