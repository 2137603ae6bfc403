import { rmSync } from 'node:fs';
import { connect, createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mongo } from 'mongoose';
import { OrganizationLifecycleService } from '../src/organizations/organization-lifecycle.service';
import { toSlug } from '../src/organizations/organization-name';
import { storageNameForSlug } from '../src/tenancy/storage-names';
import { TenantStorageService } from '../src/tenancy/tenant-storage.service';
import { LocalMongo, startLocalMongo } from '../tools/local-mongo';
import { Api, ApiResponse, expectProblem, Organization, PASSWORD, query } from './support/api';
import { AppProcess, startAppProcess, stopAllAppProcesses } from './support/app-process';
import { eventually } from './support/eventually';
import { NotesModule } from './support/notes.module';
import { mode, randomSuffix, startTestApp, TestApp } from './support/test-app';

/**
 * Fault injection against real servers: the database stopped in the middle of create, rename and
 * delete; the process killed (SIGKILL) in the middle of a rename of 10 000 documents. Every suite runs its own database server (an H2 file in the temporary
 * directory, so that its data survives a restart), so the shared one is never disturbed, and every
 * outcome is checked in the database with the MongoDB driver, not only through the API.
 */

const JWT_SECRET = 'faults-e2e-secret-that-is-long-enough-for-production';

/** startTestApp writes its settings into process.env: put it back as it was after this file. */
const originalEnv = { ...process.env };
afterAll(() => {
  for (const key of Object.keys(process.env)) {
    if (!(key in originalEnv)) {
      delete process.env[key];
    }
  }
  Object.assign(process.env, originalEnv);
});

/** A database server of our own, restartable on the same port and data file, with a driver client to check it. */
class OwnDatabase {
  private constructor(
    private server: LocalMongo | undefined,
    readonly port: number,
    private readonly dataFile: string,
    readonly client: mongo.MongoClient,
  ) {}

  static async start(label: string): Promise<OwnDatabase> {
    const dataFile = join(tmpdir(), `org-service-faults-${label}-${randomSuffix()}.mv`);
    const server = await startLocalMongo({ dataFile });
    const client = new mongo.MongoClient(server.uri, { serverSelectionTimeoutMS: 5000 });
    return new OwnDatabase(server, server.port, dataFile, client);
  }

  get uri(): string {
    return `mongodb://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.stop();
  }

  /** Same port, same data file: to its clients, the same database back again. */
  async restart(): Promise<void> {
    if (!this.server) {
      this.server = await startLocalMongo({ port: this.port, dataFile: this.dataFile });
    }
  }

  async dispose(): Promise<void> {
    await this.client.close(true).catch(() => undefined);
    await this.stop();
    rmSync(this.dataFile, { force: true });
  }
}

/** Where the tenancy layer keeps an organization's documents, read with the driver, in the current mode. */
class Storage {
  constructor(
    private readonly client: mongo.MongoClient,
    readonly master: string,
  ) {}

  organizations() {
    return this.client.db(this.master).collection('organizations');
  }

  admins() {
    return this.client.db(this.master).collection('admins');
  }

  /** `null` is the default collection (the admin's entry); otherwise an entity such as `notes`. */
  collection(storageName: string, entity: string | null): mongo.Collection {
    if (mode() === 'database') {
      return this.client.db(storageName).collection(entity ?? 'data');
    }
    return this.client.db(this.master).collection(entity === null ? storageName : `${storageName}__${entity}`);
  }

  /**
   * Whether anything of the storage is left. Asked of the server's listings, never by opening it:
   * mongo-java-server creates a database on first access.
   */
  async exists(storageName: string): Promise<boolean> {
    if (mode() === 'database') {
      return (await this.databaseNames()).includes(storageName);
    }
    const names = await this.collectionNames();
    return names.some((name) => name === storageName || name.startsWith(`${storageName}__`));
  }

  /** The documents of one collection of the storage, or none if it does not exist (without creating it). */
  async documents(storageName: string, entity: string | null): Promise<mongo.Document[]> {
    return (await this.holds(storageName, entity))
      ? this.collection(storageName, entity).find().sort({ _id: 1 }).toArray()
      : [];
  }

  async count(storageName: string, entity: string | null): Promise<number> {
    return (await this.holds(storageName, entity)) ? this.collection(storageName, entity).countDocuments() : 0;
  }

  /** Whether that collection exists, asked without touching it. */
  private async holds(storageName: string, entity: string | null): Promise<boolean> {
    if (mode() === 'database' && !(await this.databaseNames()).includes(storageName)) {
      return false;
    }
    const { dbName, collectionName } = this.collection(storageName, entity);
    const present = await this.client
      .db(dbName)
      .listCollections({ name: collectionName }, { nameOnly: true })
      .toArray();
    return present.length > 0;
  }

  async databaseNames(): Promise<string[]> {
    const { databases } = await this.client.db('admin').command({ listDatabases: 1 });
    return (databases as Array<{ name: string }>).map(({ name }) => name);
  }

  async collectionNames(): Promise<string[]> {
    const collections = await this.client.db(this.master).listCollections({}, { nameOnly: true }).toArray();
    return collections.map(({ name }) => name);
  }
}

const storageFor = (name: string) => storageNameForSlug(toSlug(name));
const idsOf = (documents: mongo.Document[]) => documents.map((document) => document._id.toString());
const byName = (name: string) => `/org/get?${query({ organization_name: name })}`;

describe('Faults: the database stops in the middle of create, rename and delete (e2e)', () => {
  let database: OwnDatabase;
  let storage: Storage;
  let testApp: TestApp;
  let api: Api;
  /** An organization no operation touches: its data must come through every fault intact. */
  let bystander: Organization;
  const bystanderNotes = ['kept 1', 'kept 2', 'kept 3'];

  beforeAll(async () => {
    database = await OwnDatabase.start('stop');
    storage = new Storage(database.client, `faults_${mode()}_${randomSuffix()}`);
    testApp = await startTestApp({
      env: {
        MONGODB_URI: database.uri,
        MASTER_DB_NAME: storage.master,
        OPERATION_LEASE_MS: '500',
        DB_TIMEOUT_MS: '2000',
      },
      imports: [NotesModule],
    });
    api = new Api(() => testApp.app);
    bystander = await api.createOrganization('Bystander');
    for (const text of bystanderNotes) {
      expect((await api.post('/notes', { token: bystander.token, json: { text } })).status).toBe(201);
    }
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    // A test that failed half-way may have left the database stopped.
    await database.restart();
  });

  afterAll(async () => {
    try {
      // Fails the file if the app ever answered a 500.
      await testApp?.close({ dropDatabases: false });
    } finally {
      await database?.dispose();
    }
  });

  async function expectBystanderIntact(): Promise<void> {
    const storageName = storageFor(bystander.name);
    expect((await storage.documents(storageName, 'notes')).map((note) => note.text)).toEqual(bystanderNotes);
    expect(await storage.collection(storageName, null).countDocuments({ kind: 'admin' })).toBe(1);
    expect(await storage.organizations().findOne({ slug: toSlug(bystander.name) })).toMatchObject({ state: 'active' });
    expect((await api.get('/notes', { token: bystander.token })).body.data).toEqual(bystanderNotes);
  }

  /** The API and the organizations collection tell the same story about a name. */
  async function expectApiAgreesWithDatabase(name: string): Promise<void> {
    const record = await storage.organizations().findOne({ slug: toSlug(name) });
    const response = await api.get(byName(name));
    if (record === null) {
      expectProblem(response, 404);
      return;
    }
    expect(record.state).toBe('active');
    expect(record).not.toHaveProperty('operation');
    expect(response.status).toBe(200);
    expect(response.body.data).toMatchObject({
      organization_id: record._id.toString(),
      organization_name: record.organization_name,
      slug: record.slug,
      collection_name: storageNameForSlug(record.slug),
    });
  }

  async function writeNotes(organization: Organization, texts: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const text of texts) {
      const response = await api.post('/notes', { token: organization.token, json: { text } });
      expect(response.status).toBe(201);
      ids.push(response.body.data.id);
    }
    return ids;
  }

  it('rolls back a create whose database stopped before it could complete it', async () => {
    const name = `Stopped Create ${randomSuffix()}`;
    const email = `stopped-create-${randomSuffix()}@example.com`;
    const slug = toSlug(name);
    const storageName = storageFor(name);
    // The last step of a create marks it active; the database stops just before it.
    const lifecycle = testApp.app.get(OrganizationLifecycleService) as unknown as Record<
      string,
      (...args: unknown[]) => Promise<unknown>
    >;
    const complete = lifecycle.complete.bind(lifecycle);
    let interrupted: Record<string, unknown> | undefined;
    jest.spyOn(lifecycle, 'complete').mockImplementation(async (...args: unknown[]) => {
      if (args[1] === 'creating' && interrupted === undefined) {
        interrupted = {
          record: await storage.organizations().findOne({ slug }),
          admins: await storage.admins().countDocuments({ email }),
          tenantAdmins: await storage.count(storageName, null),
        };
        await database.stop();
      }
      return complete(...args);
    });

    const started = Date.now();
    const response = await api.createOrganizationRequest(name, email);
    expectProblem(response, 503);
    expect(response.headers['retry-after']).toBeDefined();
    expect(Date.now() - started).toBeLessThan(15_000);
    jest.restoreAllMocks();
    // What the database held when it stopped: every step done but the last.
    expect(interrupted).toMatchObject({ record: { state: 'creating' }, admins: 1, tenantAdmins: 1 });

    await database.restart();
    await eventually(async () => {
      expect(await storage.organizations().countDocuments({ slug })).toBe(0);
    }, 30_000);
    expect(await storage.organizations().countDocuments({ claimed_slugs: slug })).toBe(0);
    expect(await storage.admins().countDocuments({ email })).toBe(0);
    expect(await storage.exists(storageName)).toBe(false);
    expectProblem(await api.get(byName(name)), 404);
    await expectApiAgreesWithDatabase(name);
    await expectBystanderIntact();

    // Nothing of it is left to block the name or the email.
    const again = await api.createOrganizationRequest(name, email);
    expect(again.status).toBe(201);
    await expectApiAgreesWithDatabase(name);
    expect(await storage.collection(storageName, null).countDocuments({ kind: 'admin' })).toBe(1);
  });

  it('finishes a rename whose database stopped after part of the storage had moved', async () => {
    const organization = await api.createOrganization('Stopped Rename');
    const noteIds = await writeNotes(organization, ['a', 'b', 'c']);
    const adminEntries = idsOf(await storage.documents(storageFor(organization.name), null));
    expect(adminEntries).toEqual([organization.adminId]);
    const newName = `Renamed After Stop ${randomSuffix()}`;
    const [oldStorage, newStorage] = [storageFor(organization.name), storageFor(newName)];

    // Steps: before the default collection, before notes (and in database mode before dropping the old database).
    // The database stops at the second: the default collection has moved, the notes have not.
    const tenantStorage = testApp.app.get(TenantStorageService);
    const move = tenantStorage.move.bind(tenantStorage);
    let interrupted: Record<string, unknown> | undefined;
    jest.spyOn(tenantStorage, 'move').mockImplementation(async (from, to, beforeEachStep) => {
      let step = 0;
      return move(from, to, async () => {
        step += 1;
        if (step === 2 && interrupted === undefined) {
          interrupted = {
            record: await storage.organizations().findOne({ _id: new mongo.ObjectId(organization.id) }),
            newAdminEntries: await storage.count(newStorage, null),
            oldNotes: await storage.count(oldStorage, 'notes'),
            newNotes: await storage.count(newStorage, 'notes'),
          };
          await database.stop();
        }
        return beforeEachStep();
      });
    });

    const response = await api.put('/org/update', {
      token: organization.token,
      json: { organization_name: organization.name, new_organization_name: newName },
    });
    expectProblem(response, 503);
    jest.restoreAllMocks();
    expect(interrupted).toMatchObject({
      record: { state: 'renaming', operation: { kind: 'rename', target_slug: toSlug(newName) } },
      newAdminEntries: 1,
      oldNotes: 3,
      newNotes: 0,
    });

    await database.restart();
    await eventually(async () => {
      expect(await storage.organizations().findOne({ _id: new mongo.ObjectId(organization.id) })).toMatchObject({
        state: 'active',
        organization_name: newName,
        slug: toSlug(newName),
        claimed_slugs: [toSlug(newName)],
      });
    }, 30_000);
    // Every document moved, none lost or doubled, nothing left behind.
    expect(idsOf(await storage.documents(newStorage, null))).toEqual(adminEntries);
    const notes = await storage.documents(newStorage, 'notes');
    expect(idsOf(notes)).toEqual(noteIds);
    expect(notes.map((note) => note.text)).toEqual(['a', 'b', 'c']);
    expect(await storage.exists(oldStorage)).toBe(false);
    expect(await storage.organizations().countDocuments({ claimed_slugs: toSlug(organization.name) })).toBe(0);
    // Not half-visible: the API shows the new name only, and the token still opens the moved data.
    await expectApiAgreesWithDatabase(newName);
    await expectApiAgreesWithDatabase(organization.name);
    expectProblem(await api.get(byName(organization.name)), 404);
    expect((await api.get('/notes', { token: organization.token })).body.data).toEqual(['a', 'b', 'c']);
    expect((await api.get('/admin/me', { token: organization.token })).body.data).toMatchObject({
      organization_id: organization.id,
      organization_name: newName,
    });
    await expectBystanderIntact();
  });

  it('finishes a delete whose database stopped before its storage was all dropped', async () => {
    const organization = await api.createOrganization('Stopped Delete');
    await writeNotes(organization, ['x', 'y']);
    const storageName = storageFor(organization.name);
    // Collection mode drops the default collection, then notes: the database stops between the two.
    // Database mode drops the whole database in one step: the database stops just before it.
    const stopAtStep = mode() === 'database' ? 1 : 2;
    const tenantStorage = testApp.app.get(TenantStorageService);
    const drop = tenantStorage.drop.bind(tenantStorage);
    let interrupted: Record<string, unknown> | undefined;
    jest.spyOn(tenantStorage, 'drop').mockImplementation(async (target, beforeEachStep) => {
      let step = 0;
      return drop(target, async () => {
        step += 1;
        if (step === stopAtStep && interrupted === undefined) {
          interrupted = {
            record: await storage.organizations().findOne({ _id: new mongo.ObjectId(organization.id) }),
            admins: await storage.admins().countDocuments({ email: organization.email }),
            adminEntries: await storage.count(storageName, null),
            notes: await storage.count(storageName, 'notes'),
          };
          await database.stop();
        }
        return beforeEachStep();
      });
    });

    const response = await api.delete(`/org/delete?${query({ organization_name: organization.name })}`, {
      token: organization.token,
    });
    expectProblem(response, 503);
    jest.restoreAllMocks();
    expect(interrupted).toMatchObject({
      record: { state: 'deleting', operation: { kind: 'delete' } },
      admins: 0,
      adminEntries: mode() === 'database' ? 1 : 0,
      notes: 2,
    });

    await database.restart();
    await eventually(async () => {
      expect(await storage.organizations().findOne({ _id: new mongo.ObjectId(organization.id) })).toBeNull();
    }, 30_000);
    expect(await storage.exists(storageName)).toBe(false);
    expect(await storage.admins().countDocuments({ organization_id: new mongo.ObjectId(organization.id) })).toBe(0);
    await expectApiAgreesWithDatabase(organization.name);
    expectProblem(await api.get('/admin/me', { token: organization.token }), 401);
    await expectBystanderIntact();
    // The name and the email are free again.
    expect((await api.createOrganizationRequest(organization.name, organization.email)).status).toBe(201);
    await expectApiAgreesWithDatabase(organization.name);
  });
});

/**
 * A TCP relay to the database that holds back, never sent, the first client message `hold` picks
 * and everything after it on that connection: the app's request stops at exactly that point.
 */
class HoldingRelay {
  private readonly sockets = new Set<Socket>();
  private holding = false;
  private markHeld!: () => void;
  /** Resolves once a message is being held. */
  readonly held = new Promise<void>((resolve) => (this.markHeld = resolve));
  private server!: Server;
  port = 0;

  private constructor(
    private readonly targetPort: number,
    private readonly hold: (message: Buffer) => boolean,
  ) {}

  static async start(targetPort: number, hold: (message: Buffer) => boolean): Promise<HoldingRelay> {
    const relay = new HoldingRelay(targetPort, hold);
    relay.server = createServer((client) => relay.relay(client));
    await new Promise<void>((resolve, reject) => {
      relay.server.once('error', reject);
      relay.server.listen(0, '127.0.0.1', () => resolve());
    });
    relay.port = (relay.server.address() as { port: number }).port;
    return relay;
  }

  get uri(): string {
    return `mongodb://127.0.0.1:${this.port}`;
  }

  private relay(client: Socket): void {
    const upstream = connect(this.targetPort, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on('close', end);
      socket.on('error', end);
    }
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    // Wire-protocol messages start with their length (int32, little-endian): forward whole messages only.
    let pending = Buffer.alloc(0);
    let frozen = false;
    client.on('data', (chunk: Buffer) => {
      if (frozen) {
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        const length = pending.readInt32LE(0);
        const message = pending.subarray(0, length);
        pending = pending.subarray(length);
        if (!this.holding && this.hold(message)) {
          this.holding = true;
          frozen = true;
          this.markHeld();
          return;
        }
        upstream.write(message);
      }
    });
  }

  async close(): Promise<void> {
    this.sockets.forEach((socket) => socket.destroy());
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const NOTE_COUNT = 10_000;

describe(
  mode() === 'database'
    ? 'Faults: the process SIGKILLed while a database-mode rename copies 10 000 documents (e2e)'
    : // Collection mode moves a collection with one renameCollection, atomic on the server: there is no
      // copy to interrupt, so the process is killed between the renames of the tenant's two collections.
      'Faults: the process SIGKILLed between the collection renames of a collection-mode rename of 10 000 documents (e2e)',
  () => {
    let database: OwnDatabase;
    let storage: Storage;
    let relay: HoldingRelay | undefined;
    const processes: AppProcess[] = [];

    beforeEach(async () => {
      database = await OwnDatabase.start('kill');
      storage = new Storage(database.client, `faults_kill_${mode()}_${randomSuffix()}`);
    });

    afterEach(async () => {
      try {
        await stopAllAppProcesses();
        await relay?.close();
        // A process of this test must never have answered a 500 (logged as an error by ProblemDetails).
        expect(processes.flatMap((app) => serverErrorsIn(app.output()))).toEqual([]);
      } finally {
        processes.length = 0;
        relay = undefined;
        await database.dispose();
      }
    });

    async function startApp(uri: string): Promise<AppProcess> {
      const app = await startAppProcess({
        MONGODB_URI: uri,
        MASTER_DB_NAME: storage.master,
        TENANCY_MODE: mode(),
        OPERATION_LEASE_MS: '1000',
        BCRYPT_COST: '10',
        LOG_LEVEL: 'warn',
        JWT_SECRET,
        NODE_ENV: 'test',
      });
      processes.push(app);
      return app;
    }

    interface Seeded {
      name: string;
      id: string;
      adminId: string;
      token: string;
      noteIds: string[];
      newName: string;
    }

    /** An organization and its admin through the API, then 10 000 notes written straight into its storage. */
    async function seed(app: AppProcess): Promise<Seeded> {
      const suffix = randomSuffix();
      const name = `Killed Rename ${suffix}`;
      const email = `killed-${suffix}@example.com`;
      const created = await call(app, 'POST', '/org/create', {
        json: { organization_name: name, email, password: PASSWORD },
      });
      expect(created.status).toBe(201);
      const login = await call(app, 'POST', '/admin/login', { json: { email, password: PASSWORD } });
      expect(login.status).toBe(200);
      const id = created.body.data.organization_id as string;
      // Recorded as the tenancy layer records an entity before its first write, so that a rename moves it.
      const recorded = await storage
        .organizations()
        .updateOne({ _id: new mongo.ObjectId(id), state: 'active' }, { $addToSet: { entities: 'notes' } });
      expect(recorded.matchedCount).toBe(1);
      const notes = Array.from({ length: NOTE_COUNT }, (_, index) => ({
        _id: new mongo.ObjectId(),
        text: `note ${index}`,
      }));
      await storage.collection(storageFor(name), 'notes').insertMany(notes);
      return {
        name,
        id,
        adminId: created.body.data.admin_id,
        token: login.body.access_token,
        noteIds: notes.map((note) => note._id.toString()),
        newName: `Moved ${suffix}`,
      };
    }

    const rename = (app: AppProcess, seeded: Seeded) =>
      call(app, 'PUT', '/org/update', {
        token: seeded.token,
        json: { organization_name: seeded.name, new_organization_name: seeded.newName },
        timeoutMs: 60_000,
      }).then(
        (response) => ({ response }),
        (error: Error) => ({ error }),
      );

    const recordOf = (seeded: Seeded) => storage.organizations().findOne({ _id: new mongo.ObjectId(seeded.id) });

    /** What the database holds once the process is dead: the state the next process has to deal with. */
    async function interruptedState(seeded: Seeded) {
      const [oldStorage, newStorage] = [storageFor(seeded.name), storageFor(seeded.newName)];
      return {
        state: (await recordOf(seeded))?.state,
        oldNotes: await storage.count(oldStorage, 'notes'),
        newNotes: await storage.count(newStorage, 'notes'),
        newAdminEntries: await storage.count(newStorage, null),
      };
    }

    /**
     * Database mode: the copy of `notes` takes seconds (ten batches of 1000); the test watches the
     * target fill and kills the process once the copy has begun and is not finished. Should the
     * rename still get through first (the copy outrunning the polling), the attempt is recorded
     * and a fresh organization is tried, up to three times.
     */
    async function killDuringCopy(): Promise<{ seeded: Seeded; observedCopied: number; attempts: Seeded[] }> {
      const attempts: Seeded[] = [];
      for (let attempt = 1; attempt <= 3; attempt++) {
        const app = await startApp(database.uri);
        const seeded = await seed(app);
        attempts.push(seeded);
        const newStorage = storageFor(seeded.newName);
        let outcome: Awaited<ReturnType<typeof rename>> | undefined;
        void rename(app, seeded).then((result) => (outcome = result));
        let observedCopied = -1;
        const deadline = Date.now() + 30_000;
        while (outcome === undefined && Date.now() < deadline) {
          const copied = await storage.count(newStorage, 'notes');
          if (copied >= 1000 && copied < NOTE_COUNT - 1000) {
            observedCopied = copied;
            await app.kill('SIGKILL');
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await app.kill('SIGKILL');
        const state = await interruptedState(seeded);
        if (observedCopied > 0 && state.state === 'renaming') {
          // Killed mid-copy: the old database still has everything, the new one part of it.
          expect(state).toMatchObject({ state: 'renaming', oldNotes: NOTE_COUNT, newAdminEntries: 1 });
          expect(state.newNotes).toBeGreaterThanOrEqual(observedCopied);
          expect(state.newNotes).toBeLessThan(NOTE_COUNT);
          expect(await storage.exists(storageFor(seeded.name))).toBe(true);
          console.log(
            `faults kill (database): attempt ${attempt} killed with ${observedCopied} of ${NOTE_COUNT} copied (${state.newNotes} after the kill)`,
          );
          return { seeded, observedCopied, attempts };
        }
        if (outcome && 'response' in outcome) {
          expect(outcome.response.status).toBe(200);
        }
        console.log(`faults kill (database): attempt ${attempt} not interrupted mid-copy: ${JSON.stringify(state)}`);
      }
      throw new Error('The rename finished before the process could be killed in three attempts');
    }

    /**
     * Collection mode: each collection moves with one renameCollection. The process reaches the
     * database through a relay that holds back the renameCollection of `notes`; once it is held,
     * the default collection has moved and `notes` has not, and the process is killed right there.
     */
    async function killBetweenRenames(): Promise<{ seeded: Seeded; attempts: Seeded[] }> {
      let seeded: Seeded | undefined;
      relay = await HoldingRelay.start(
        database.port,
        (message) =>
          seeded !== undefined &&
          message.includes('renameCollection') &&
          message.includes(`${storageFor(seeded.name)}__notes`),
      );
      const app = await startApp(relay.uri);
      seeded = await seed(app);
      const renaming = rename(app, seeded);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        relay.held,
        renaming.then((outcome) => {
          throw new Error(`The rename ended before its notes were renamed: ${JSON.stringify(outcome)}`);
        }),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('No renameCollection held')), 30_000))),
      ]).finally(() => clearTimeout(timer));
      await app.kill('SIGKILL');
      expect('error' in (await renaming)).toBe(true);
      expect(await interruptedState(seeded)).toEqual({
        state: 'renaming',
        oldNotes: NOTE_COUNT,
        newNotes: 0,
        newAdminEntries: 1,
      });
      return { seeded, attempts: [seeded] };
    }

    it(`finishes the rename in the next process, with all ${NOTE_COUNT} documents in exactly one place and the old token still valid`, async () => {
      const { seeded, attempts } = mode() === 'database' ? await killDuringCopy() : await killBetweenRenames();
      expect(await recordOf(seeded)).toMatchObject({
        state: 'renaming',
        operation: { kind: 'rename', target_slug: toSlug(seeded.newName) },
      });

      const next = await startApp(database.uri);
      for (const organization of attempts) {
        await eventually(async () => {
          const record = await recordOf(organization);
          expect(record).toMatchObject({
            state: 'active',
            organization_name: organization.newName,
            slug: toSlug(organization.newName),
            claimed_slugs: [toSlug(organization.newName)],
          });
          expect(record).not.toHaveProperty('operation');
        }, 40_000);

        const [oldStorage, newStorage] = [storageFor(organization.name), storageFor(organization.newName)];
        // Every note exactly once, in the new storage only, under its own _id; the admin's entry with them.
        const notes = await storage.documents(newStorage, 'notes');
        const ids = notes.map((note) => note._id.toString());
        expect(ids.length).toBe(NOTE_COUNT);
        expect(new Set(ids).size).toBe(NOTE_COUNT);
        expect([...ids].sort()).toEqual([...organization.noteIds].sort());
        expect(await storage.collection(newStorage, 'notes').countDocuments()).toBe(NOTE_COUNT);
        expect((await storage.documents(newStorage, null)).map((entry) => entry._id.toString())).toEqual([
          organization.adminId,
        ]);
        // Nothing of the old storage is listed any more (its database, or its collections).
        const listed = mode() === 'database' ? await storage.databaseNames() : await storage.collectionNames();
        expect(listed.filter((name) => name === oldStorage || name.startsWith(`${oldStorage}__`))).toEqual([]);
        expect(await storage.exists(oldStorage)).toBe(false);

        // The API agrees, and the token issued before the kill still works on the new process.
        const me = await call(next, 'GET', '/admin/me', { token: organization.token });
        expect(me.status).toBe(200);
        expect(me.body.data).toMatchObject({
          admin_id: organization.adminId,
          organization_id: organization.id,
          organization_name: organization.newName,
        });
        const found = await call(next, 'GET', byName(organization.newName));
        expect(found.status).toBe(200);
        expect(found.body.data).toMatchObject({ organization_id: organization.id, collection_name: newStorage });
        expect((await call(next, 'GET', byName(organization.name))).status).toBe(404);
      }
      await next.stop();
    }, 60_000);
  },
);

interface CallOptions {
  token?: string;
  json?: unknown;
  timeoutMs?: number;
}

/** One request to an app process over loopback HTTP. */
async function call(app: AppProcess, method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
  }
  if (options.token) {
    headers.authorization = `Bearer ${options.token}`;
  }
  const response = await fetch(`${app.url}${path}`, {
    method,
    headers,
    body: options.json === undefined ? undefined : JSON.stringify(options.json),
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await response.text();
  expect(response.status).not.toBe(500);
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body: /json/.test(response.headers.get('content-type') ?? '') ? JSON.parse(text) : text,
  };
}

/** The lines an app process logged for a 500: ProblemDetails logs those, and only those, as errors. */
function serverErrorsIn(output: string): string[] {
  return output.split('\n').filter((line) => {
    try {
      const entry = JSON.parse(line) as { level?: number; context?: string };
      return entry.context === 'ProblemDetails' && (entry.level ?? 0) >= 50;
    } catch {
      return false;
    }
  });
}
