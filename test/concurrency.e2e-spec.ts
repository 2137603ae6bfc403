import { Api, PASSWORD } from './support/api';
import { mode, randomSuffix, startTestApp, TestApp } from './support/test-app';

describe('Concurrent creates (e2e)', () => {
  let testApp: TestApp;
  let api: Api;

  beforeAll(async () => {
    testApp = await startTestApp();
    api = new Api(testApp.app);
  });

  afterAll(() => testApp.close());

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
    const master = testApp.connection.getClient().db(testApp.env.MASTER_DB_NAME);
    expect(await master.collection('organizations').countDocuments({ slug: `race_corp_${suffix}` })).toBe(1);
    expect(await master.collection('admins').countDocuments({ email: new RegExp(`^racer-\\d+-${suffix}@`) })).toBe(1);
    const storage = `org_race_corp_${suffix}`;
    const tenantCollection =
      mode() === 'database'
        ? testApp.connection.getClient().db(storage).collection('data')
        : master.collection(storage);
    expect(await tenantCollection.countDocuments()).toBe(1);
  });

  it('20 parallel creates with one email give one 201 and nineteen 409', async () => {
    const suffix = randomSuffix();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        api.post('/org/create', {
          json: { organization_name: `Email Race ${index} ${suffix}`, email: `shared-${suffix}@example.com`, password: PASSWORD },
        }),
      ),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([201, ...Array(19).fill(409)]);
    const master = testApp.connection.getClient().db(testApp.env.MASTER_DB_NAME);
    expect(await master.collection('organizations').countDocuments({ organization_name: new RegExp(`^Email Race \\d+ ${suffix}$`) })).toBe(1);
  });
});
