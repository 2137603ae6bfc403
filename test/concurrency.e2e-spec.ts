import { mongo } from 'mongoose';
import { toSlug } from '../src/organizations/organization-name';
import { Organization, PASSWORD, query } from './support/api';
import { randomSuffix } from './support/random';
import { storageNameOfSlug } from './support/tenant-storage';
import { useTestApp } from './support/test-app';

describe('Concurrent creates (e2e)', () => {
  const { testApp, api } = useTestApp();

  it('20 parallel creates of one name give one 201, nineteen 409 and one storage', async () => {
    const suffix = randomSuffix();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        api.post('/org/create', {
          json: {
            // Every spelling has the same slug.
            organization_name: index % 2 ? `Race Corp ${suffix}` : `race-corp.${suffix}`,
            email: `racer-${index}-${suffix}@example.com`,
            password: PASSWORD,
          },
        }),
      ),
    );

    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([201, ...Array(19).fill(409)]);
    const storage = testApp().storage;
    const slug = `race_corp_${suffix}`;
    expect(await storage.organizations().countDocuments({ slug })).toBe(1);
    expect(await storage.admins().countDocuments({ email: new RegExp(`^racer-\\d+-${suffix}@`) })).toBe(1);
    expect(await storage.collection(storageNameOfSlug(slug), null).countDocuments()).toBe(1);
  });

  it('20 parallel creates with one email give one 201 and nineteen 409', async () => {
    const suffix = randomSuffix();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        api.post('/org/create', {
          json: {
            organization_name: `Email Race ${index} ${suffix}`,
            email: `shared-${suffix}@example.com`,
            password: PASSWORD,
          },
        }),
      ),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([201, ...Array(19).fill(409)]);
    expect(
      await testApp()
        .storage.organizations()
        .countDocuments({ organization_name: new RegExp(`^Email Race \\d+ ${suffix}$`) }),
    ).toBe(1);
  });
});

describe('Concurrent updates (e2e)', () => {
  const { testApp, api } = useTestApp();

  const organizations = () => testApp().storage.organizations();

  it('never leaves a display name that does not match the slug', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const organization = await api.createOrganization('Case Race');
      const other = `Other Name ${randomSuffix()}`;
      const [caseChange, rename] = await Promise.all([
        api.put('/org/update', {
          token: organization.token,
          json: { organization_name: organization.name, new_organization_name: organization.name.toUpperCase() },
        }),
        api.put('/org/update', {
          token: organization.token,
          json: { organization_name: organization.name, new_organization_name: other },
        }),
      ]);
      expect([caseChange.status, rename.status]).toEqual(expect.arrayContaining([200]));
      const record = await organizations().findOne({ _id: new mongo.ObjectId(organization.id) });
      expect(record?.slug).toBe(record ? toSlug(record.organization_name) : undefined);
    }
  });

  it('changes no credentials when the rename they came with loses its race', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const organization = await api.createOrganization('Credential Race');
      const email = `raced-${randomSuffix()}@example.com`;
      const [plain, withEmail] = await Promise.all([
        api.put('/org/update', {
          token: organization.token,
          json: { organization_name: organization.name, new_organization_name: `Winner ${randomSuffix()}` },
        }),
        api.put('/org/update', {
          token: organization.token,
          json: { organization_name: organization.name, new_organization_name: `Loser ${randomSuffix()}`, email },
        }),
      ]);
      expect(plain.status === 200 || withEmail.status === 200).toBe(true);
      if (withEmail.status !== 200) {
        // 409 while the other rename runs, 404 once it has moved the organization away from that name.
        expect([404, 409]).toContain(withEmail.status);
        expect((await api.post('/admin/login', { json: { email, password: PASSWORD } })).status).toBe(401);
        await api.login(organization.email);
      }
    }
  });
});

describe('Racing changes to one organization (e2e)', () => {
  const SUPERADMIN = { email: 'race-root@example.com', password: 'RaceRootPassword1!' };
  const { testApp, api } = useTestApp({
    env: { SUPERADMIN_EMAIL: SUPERADMIN.email, SUPERADMIN_PASSWORD: SUPERADMIN.password },
  });

  const organizations = () => testApp().storage.organizations();
  const rename = (organization: Organization, to: string, token = organization.token) =>
    api.put('/org/update', { token, json: { organization_name: organization.name, new_organization_name: to } });

  /**
   * One record, active, its name and slug agreeing, holding only its own slug and the names it gave
   * up that are still reserved, and its storage there; or none (a deleted one's tombstone counts as none).
   */
  async function expectConsistent(id: string): Promise<Record<string, any> | null> {
    const record = await organizations().findOne({ _id: new mongo.ObjectId(id) });
    if (record?.state === 'deleted') {
      expect(record).not.toHaveProperty('operation');
      return null;
    }
    if (record) {
      expect(record).toMatchObject({ state: 'active' });
      const reserved = record.vacated_slugs.map((vacancy: { slug: string }) => vacancy.slug);
      expect([...record.claimed_slugs].sort()).toEqual([record.slug, ...reserved].sort());
      expect(record.slug).toBe(toSlug(record.organization_name));
      expect(record).not.toHaveProperty('operation');
    }
    return record;
  }

  /** One 2xx; the loser sees the organization busy (409) or already gone from that name (404), or as `loserStatuses` says. */
  function expectOneWinner(statuses: number[], loserStatuses = [404, 409]): void {
    expect(statuses.filter((status) => status < 300)).toHaveLength(1);
    expect(statuses.filter((status) => status >= 300).every((status) => loserStatuses.includes(status))).toBe(true);
  }

  it('lets one of two parallel renames win; the other gets 409 or 404', async () => {
    const organization = await api.createOrganization('Parallel Rename');
    const [a, b] = [`Rename A ${randomSuffix()}`, `Rename B ${randomSuffix()}`];
    const responses = await Promise.all([rename(organization, a), rename(organization, b)]);
    expectOneWinner(responses.map((response) => response.status));
    const winner = responses[0].status === 200 ? a : b;
    const record = await expectConsistent(organization.id);
    expect(record?.organization_name).toBe(winner);
    expect((await api.get(`/org/get?${query({ organization_name: winner })}`)).status).toBe(200);
  });

  it('settles a rename racing a delete: either renamed and alive, or gone with its storage', async () => {
    const organization = await api.createOrganization('Rename Or Delete');
    const newName = `Renamed Before Delete ${randomSuffix()}`;
    const [renamed, deleted] = await Promise.all([
      rename(organization, newName),
      api.delete(`/org/delete?${query({ organization_name: organization.name })}`, { token: organization.token }),
    ]);
    // A rename whose token is checked after the delete finished is refused as the revoked token it is (401).
    expectOneWinner([renamed.status, deleted.status], [401, 404, 409]);
    const record = await expectConsistent(organization.id);
    if (deleted.status === 200) {
      expect(record).toBeNull();
    } else {
      expect(record?.organization_name).toBe(newName);
    }
  });

  it('gives a contested name to exactly one of a rename and a create', async () => {
    const organization = await api.createOrganization('Name Contest');
    const contested = `Contested Name ${randomSuffix()}`;
    const [renamed, created] = await Promise.all([
      rename(organization, contested),
      api.createOrganizationRequest(contested.toUpperCase()),
    ]);
    expectOneWinner([renamed.status, created.status]);
    const holders = await organizations()
      .find({ claimed_slugs: toSlug(contested) })
      .toArray();
    expect(holders).toHaveLength(1);
    await expectConsistent(organization.id);
  });

  it('keeps one outcome when the admin and a superadmin update at once', async () => {
    const organization = await api.createOrganization('Two Admins');
    const superadminToken = await api.login(SUPERADMIN.email, SUPERADMIN.password);
    const [byAdmin, bySuperadmin] = [`By Admin ${randomSuffix()}`, `By Superadmin ${randomSuffix()}`];
    const responses = await Promise.all([
      rename(organization, byAdmin),
      rename(organization, bySuperadmin, superadminToken),
    ]);
    expectOneWinner(responses.map((response) => response.status));
    const record = await expectConsistent(organization.id);
    expect(record?.organization_name).toBe(responses[0].status === 200 ? byAdmin : bySuperadmin);
  });
});
