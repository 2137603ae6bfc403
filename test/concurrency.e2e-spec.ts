import { mongo } from 'mongoose';
import { PASSWORD } from './support/api';
import { mode, randomSuffix, useTestApp } from './support/test-app';

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
    const master = testApp().connection.getClient().db(testApp().env.MASTER_DB_NAME);
    expect(await master.collection('organizations').countDocuments({ slug: `race_corp_${suffix}` })).toBe(1);
    expect(await master.collection('admins').countDocuments({ email: new RegExp(`^racer-\\d+-${suffix}@`) })).toBe(1);
    const storage = `org_race_corp_${suffix}`;
    const tenantCollection =
      mode() === 'database'
        ? testApp().connection.getClient().db(storage).collection('data')
        : master.collection(storage);
    expect(await tenantCollection.countDocuments()).toBe(1);
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
    const master = testApp().connection.getClient().db(testApp().env.MASTER_DB_NAME);
    expect(
      await master
        .collection('organizations')
        .countDocuments({ organization_name: new RegExp(`^Email Race \\d+ ${suffix}$`) }),
    ).toBe(1);
  });
});

describe('Concurrent updates (e2e)', () => {
  const { testApp, api } = useTestApp();

  const organizations = () =>
    testApp().connection.getClient().db(testApp().env.MASTER_DB_NAME).collection('organizations');

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
      expect(record?.slug).toBe(record?.organization_name.toLowerCase().replace(/[^a-z0-9]+/g, '_'));
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
        expect(withEmail.status).toBe(409);
        expect((await api.post('/admin/login', { json: { email, password: PASSWORD } })).status).toBe(401);
        await api.login(organization.email);
      }
    }
  });
});
