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
    // The notes are set aside under a name of their own, then the process fails before sending them on.
    failAfter(first.testApp.app.get(TenantStorageService), 'settle', 1);
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
    jest.spyOn(storage, 'drop').mockImplementation(async (...args) => {
      await drop(...args);
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
    jest.spyOn(storage, 'drop').mockImplementation(async (...args) => {
      reachedDrop();
      await stalled;
      return drop(...args);
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

  // MongoDB has no conditional drop or rename: a step that passed its check and then froze for longer
  // than a lease and the name's reservation still runs, on storage another organization holds by then.
  it.each(['delete', 'rename'])(
    'gives back to the new holder of the name what a %s frozen after its last check took late',
    async (kind) => {
      const first = await start();
      const organization = await first.api.createOrganization(`Frozen ${kind}`);
      let frozen = false;
      let wake!: () => void;
      const stalled = new Promise<void>((resolve) => (wake = resolve));
      let reachedStep!: () => void;
      const atStep = new Promise<void>((resolve) => (reachedStep = resolve));
      // The whole instance stalls right after the check of its first step: its lease is no longer renewed.
      const registry = first.testApp.app.get(TenantRegistry);
      const renewLease = registry.renewLease.bind(registry);
      jest.spyOn(registry, 'renewLease').mockImplementation(async (...args) => {
        if (frozen) {
          await stalled;
        }
        return renewLease(...args);
      });
      const storage = first.testApp.app.get(TenantStorageService) as unknown as Record<
        string,
        (...args: unknown[]) => Promise<unknown>
      >;
      const setAside = storage.setAside.bind(storage);
      jest.spyOn(storage, 'setAside').mockImplementation(async (...args) => {
        if (!frozen) {
          frozen = true;
          reachedStep();
          await stalled;
        }
        return setAside(...args);
      });
      const stalledRequest =
        kind === 'delete'
          ? first.api.delete(`/org/delete?${query({ organization_name: organization.name })}`, {
              token: organization.token,
            })
          : first.api.put('/org/update', {
              token: organization.token,
              json: { organization_name: organization.name, new_organization_name: `Thawed ${randomSuffix()}` },
            });
      await atStep;

      const second = await start();
      // Finished by the second instance, then the old name's reservation runs out.
      await eventually(async () => {
        expect(
          await second.testApp.storage.organizations().countDocuments({ claimed_slugs: toSlug(organization.name) }),
        ).toBe(0);
      }, 30_000);
      const email = `successor-${randomSuffix()}@example.com`;
      expect((await second.api.createOrganizationRequest(organization.name, email)).status).toBe(201);
      const token = await second.api.login(email);
      expect((await second.api.post('/notes', { token, json: { text: 'mine' } })).status).toBe(201);
      wake();

      // The frozen step set the successor's first collection aside; its documents went straight back.
      // The rename finds it cannot complete (409); the delete says it is done (200) when that was its
      // last collection, else its next step's check finds the operation taken over (409).
      expect(kind === 'delete' ? [200, 409] : [409]).toContain((await stalledRequest).status);
      expect(await tenantAdminsIn(second.testApp, organization.name)).toBe(1);
      expect(await notesIn(second.testApp, organization.name)).toEqual(['mine']);
      expect((await second.api.get('/notes', { token })).body.data).toEqual(['mine']);
      expect((await second.api.get('/admin/me', { token })).status).toBe(200);
      const listed = await second.testApp.storage.listed(storageNameOf(organization.name), { collections: true });
      expect(listed.filter((name) => name.includes('.moving.'))).toEqual([]);
      expect(
        await second.testApp.storage.client.db(env.MASTER_DB_NAME).collection('tenant_asides').countDocuments(),
      ).toBe(0);
      await crash(first.testApp);
    },
  );
});
