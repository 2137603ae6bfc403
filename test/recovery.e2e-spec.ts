import { mongo } from 'mongoose';
import { toSlug } from '../src/organizations/organization-name';
import { TenantConnectionService } from '../src/tenancy/tenant-connection.service';
import { TenantRegistry } from '../src/tenancy/tenant-registry.service';
import { TenantStorageService } from '../src/tenancy/tenant-storage.service';
import { Api, expectProblem, query } from './support/api';
import { eventually } from './support/eventually';
import { NotesModule } from './support/notes.module';
import { randomSuffix } from './support/random';
import { storageNameOf } from './support/tenant-storage';
import { mode, startTestApp, TestApp } from './support/test-app';

const injectedFault = () => new mongo.MongoNetworkError('injected fault: connection lost');

/** Lets the first `passes` calls through, then fails every later one as a lost connection would. */
function failAfter(target: object, method: string, passes: number): void {
  const original = (target as Record<string, (...args: unknown[]) => Promise<unknown>>)[method].bind(target);
  let calls = 0;
  jest.spyOn(target as Record<string, () => Promise<unknown>>, method as never).mockImplementation((async (
    ...args: unknown[]
  ) => {
    calls += 1;
    if (calls > passes) {
      throw injectedFault();
    }
    return original(...args);
  }) as never);
}

/**
 * Interrupts create, rename and delete between their steps, abandons the app as a crashed process
 * would, and shows that the next start-up finishes or undoes the operation with nothing lost.
 */
describe('Recovery of interrupted operations (e2e)', () => {
  let env: Record<string, string>;
  const apps: TestApp[] = [];

  beforeEach(() => {
    env = { MASTER_DB_NAME: `e2e_recovery_${mode()}_${randomSuffix()}`, OPERATION_LEASE_MS: '500' };
  });

  afterEach(async () => {
    const last = apps.pop();
    await last?.close();
    apps.length = 0;
  });

  async function start(): Promise<{ testApp: TestApp; api: Api }> {
    const testApp = await startTestApp({ env, imports: [NotesModule] });
    apps.push(testApp);
    return { testApp, api: new Api(() => testApp.app) };
  }

  /** A crashed process runs no clean-up: the app is closed with its operation left as it was. */
  async function crash(testApp: TestApp): Promise<void> {
    await testApp.close({ dropDatabases: false });
  }

  const record = (testApp: TestApp, id: string) =>
    testApp.storage.organizations().findOne({ _id: new mongo.ObjectId(id) });

  async function notesIn(testApp: TestApp, organizationName: string): Promise<string[]> {
    return (await testApp.storage.documents(storageNameOf(organizationName), 'notes')).map((note) => note.text);
  }

  async function tenantAdminsIn(testApp: TestApp, organizationName: string): Promise<number> {
    return testApp.storage.count(storageNameOf(organizationName), null, { kind: 'admin' });
  }

  it('finishes a rename interrupted after moving part of the storage', async () => {
    const first = await start();
    const organization = await first.api.createOrganization('Interrupted Rename');
    for (const text of ['a', 'b', 'c']) {
      expect((await first.api.post('/notes', { token: organization.token, json: { text } })).status).toBe(201);
    }
    failAfter(first.testApp.app.get(TenantStorageService), 'moveCollection', 1);
    const newName = `Finished Rename ${randomSuffix()}`;

    expectProblem(
      await first.api.put('/org/update', {
        token: organization.token,
        json: { organization_name: organization.name, new_organization_name: newName },
      }),
      503,
    );
    expect(await record(first.testApp, organization.id)).toMatchObject({ state: 'renaming' });
    expect(await tenantAdminsIn(first.testApp, newName)).toBe(1);
    await crash(first.testApp);

    const second = await start();
    await eventually(async () => {
      expect((await second.api.get(`/org/get?${query({ organization_name: newName })}`)).status).toBe(200);
    });
    const newSlug = toSlug(newName);
    const after = await record(second.testApp, organization.id);
    expect(after).toMatchObject({ state: 'active', slug: newSlug });
    // The old name stays reserved a while, for late writes to be carried over.
    expect(after?.claimed_slugs.sort()).toEqual([newSlug, toSlug(organization.name)].sort());
    expect(after?.vacated_slugs.map((vacancy: { slug: string }) => vacancy.slug)).toEqual([toSlug(organization.name)]);
    expect(after).not.toHaveProperty('operation');
    expect(await notesIn(second.testApp, newName)).toEqual(['a', 'b', 'c']);
    expect(await tenantAdminsIn(second.testApp, newName)).toBe(1);
    expect(await notesIn(second.testApp, organization.name)).toEqual([]);
    expect(await tenantAdminsIn(second.testApp, organization.name)).toBe(0);
    expect((await second.api.get('/notes', { token: organization.token })).body.data).toEqual(['a', 'b', 'c']);
  });

  it('finishes a delete interrupted after its storage was dropped', async () => {
    const first = await start();
    const organization = await first.api.createOrganization('Interrupted Delete');
    await first.api.post('/notes', { token: organization.token, json: { text: 'doomed' } });
    const storage = first.testApp.app.get(TenantStorageService);
    const drop = storage.drop.bind(storage);
    jest.spyOn(storage, 'drop').mockImplementation(async (target, beforeEachStep) => {
      await drop(target, beforeEachStep);
      throw injectedFault();
    });

    expectProblem(
      await first.api.delete(`/org/delete?${query({ organization_name: organization.name })}`, {
        token: organization.token,
      }),
      503,
    );
    expect(await record(first.testApp, organization.id)).toMatchObject({ state: 'deleting' });
    expectProblem(await first.api.get('/admin/me', { token: organization.token }), 401);
    await crash(first.testApp);

    const second = await start();
    // Deleted, then kept as a tombstone until its name's reservation (11 s here) ends.
    await eventually(async () => {
      expect(await record(second.testApp, organization.id)).toBeNull();
    }, 30_000);
    expectProblem(await second.api.get(`/org/get?${query({ organization_name: organization.name })}`), 404);
    expect(await notesIn(second.testApp, organization.name)).toEqual([]);
    expect((await second.api.createOrganizationRequest(organization.name, organization.email)).status).toBe(201);
  });

  it('rolls back a create whose process died before it could clean up', async () => {
    const first = await start();
    const name = `Interrupted Create ${randomSuffix()}`;
    const email = `creator-${randomSuffix()}@example.com`;
    failAfter(first.testApp.app.get(TenantConnectionService), 'model', 0);
    failAfter(first.testApp.app.get(TenantStorageService), 'drop', 0);

    expectProblem(await first.api.createOrganizationRequest(name, email), 503);
    expect(await first.testApp.storage.organizations().findOne({ organization_name: name })).toMatchObject({
      state: 'creating',
    });
    expect(await first.testApp.storage.admins().countDocuments({ email })).toBe(1);
    expectProblem(await first.api.get(`/org/get?${query({ organization_name: name })}`), 404);
    await crash(first.testApp);

    const second = await start();
    await eventually(async () => {
      expect(await second.testApp.storage.organizations().countDocuments({ organization_name: name })).toBe(0);
    });
    expect(await second.testApp.storage.admins().countDocuments({ email })).toBe(0);
    expect((await second.api.createOrganizationRequest(name, email)).status).toBe(201);
  });

  it('stops a stalled delete that another instance took over, before it can touch a new organization of that name', async () => {
    const first = await start();
    const organization = await first.api.createOrganization('Stalled Delete');
    // Everything the first instance says to the database from here on hangs, as in a long pause or a partition.
    let wake!: () => void;
    const stalled = new Promise<void>((resolve) => (wake = resolve));
    let reachedDrop!: () => void;
    const atDrop = new Promise<void>((resolve) => (reachedDrop = resolve));
    const registry = first.testApp.app.get(TenantRegistry);
    const renewLease = registry.renewLease.bind(registry);
    jest.spyOn(registry, 'renewLease').mockImplementation(async (...args) => {
      await stalled;
      return renewLease(...args);
    });
    const storage = first.testApp.app.get(TenantStorageService);
    const drop = storage.drop.bind(storage);
    jest.spyOn(storage, 'drop').mockImplementation(async (target, beforeEachStep) => {
      reachedDrop();
      await stalled;
      return drop(target, beforeEachStep);
    });
    const stalledDelete = first.api.delete(`/org/delete?${query({ organization_name: organization.name })}`, {
      token: organization.token,
    });
    await atDrop;

    const second = await start();
    // Deleted, then kept as a tombstone until its name's reservation (11 s here) ends.
    await eventually(async () => {
      expect(await record(second.testApp, organization.id)).toBeNull();
    }, 30_000);
    const successor = await second.api.createOrganizationRequest(organization.name);
    expect(successor.status).toBe(201);
    wake();

    expectProblem(await stalledDelete, 409);
    expect(await tenantAdminsIn(second.testApp, organization.name)).toBe(1);
    const found = await second.api.get(`/org/get?${query({ organization_name: organization.name })}`);
    expect(found.body.data.organization_id).toBe(successor.body.data.organization_id);
    await crash(first.testApp);
  });
});
