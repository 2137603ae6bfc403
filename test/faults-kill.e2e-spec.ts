import { connect, createServer, Server, Socket } from 'node:net';
import { mongo } from 'mongoose';
import { toSlug } from '../src/organizations/organization-name';
import { AppProcess, startAppProcess, stopAllAppProcesses } from '../tools/app-process';
import { PASSWORD } from './support/api';
import { call } from './support/app-http';
import { eventually } from './support/eventually';
import { byName, OwnDatabase } from './support/own-database';
import { randomSuffix } from './support/random';
import { storageNameOf, TenantStorage } from './support/tenant-storage';
import { mode } from './support/test-app';

/**
 * Fault injection: the app, as a real process, killed with SIGKILL in the middle of a rename of a
 * tenant holding 10 000 documents; the next process finishes the rename (one that has claimed its
 * new name is only ever carried forward), and every document is in exactly one place, checked in
 * the database with the MongoDB driver.
 */

const JWT_SECRET = 'faults-e2e-secret-that-is-long-enough-for-production';

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
    let storage: TenantStorage;
    let relay: HoldingRelay | undefined;
    const processes: AppProcess[] = [];

    beforeEach(async () => {
      database = await OwnDatabase.start('kill');
      storage = new TenantStorage(database.client, `faults_kill_${mode()}_${randomSuffix()}`, mode());
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
        // Renewed every second: a renewal held up behind the copy's batches on a busy machine must not
        // let recovery take over a rename that is alive (it would answer 409).
        OPERATION_LEASE_MS: '3000',
        // The local server's rename of a collection of 10 000 documents (H2) can take seconds on a busy
        // machine, and it is not atomic there: a step retried after its deadline while the server still
        // runs the first one can fail. So the deadlines are longer than elsewhere; a reservation of
        // 1 + 1 + 2 × 6 + 6 + 1 = 21 s.
        TENANT_HANDLE_TTL_MS: '1000',
        DB_TIMEOUT_MS: '6000',
        DB_SOCKET_TIMEOUT_MS: '6000',
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
      await storage.collection(storageNameOf(name), 'notes').insertMany(notes);
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

    /** The notes under a storage name, in its notes collection or (database mode) moved aside by a rename. */
    async function notesUnder(storageName: string): Promise<number> {
      const { database, collection } = storage.locate(storageName, 'notes');
      const names = (await storage.listed(storageName, { collections: true })).map((name) =>
        mode() === 'database' ? name.slice(database.length + 1) : name,
      );
      let count = 0;
      for (const name of names.filter(
        (listed) => listed === collection || listed.startsWith(`${collection}.moving.`),
      )) {
        count += await storage.client.db(database).collection(name).countDocuments();
      }
      return count;
    }

    /** What the database holds once the process is dead: the state the next process has to deal with. */
    async function interruptedState(seeded: Seeded) {
      const [oldStorage, newStorage] = [storageNameOf(seeded.name), storageNameOf(seeded.newName)];
      return {
        state: (await recordOf(seeded))?.state,
        oldNotes: await notesUnder(oldStorage),
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
        const newStorage = storageNameOf(seeded.newName);
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
          // Killed mid-copy: the old database still has everything (moved aside), the new one part of it.
          expect(state).toMatchObject({ state: 'renaming', oldNotes: NOTE_COUNT, newAdminEntries: 1 });
          expect(state.newNotes).toBeGreaterThanOrEqual(observedCopied);
          expect(state.newNotes).toBeLessThan(NOTE_COUNT);
          expect(await storage.exists(storageNameOf(seeded.name))).toBe(true);
          console.log(
            `faults kill (database): attempt ${attempt} killed with ${observedCopied} of ${NOTE_COUNT} copied (${state.newNotes} after the kill)`,
          );
          return { seeded, observedCopied, attempts };
        }
        if (outcome && 'response' in outcome) {
          expect(outcome.response).toMatchObject({ status: 200 });
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
          message.includes(storage.locate(storageNameOf(seeded.name), 'notes').collection),
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
            // The old name stays reserved for a while, for late writes to be carried over.
            claimed_slugs: [toSlug(organization.name), toSlug(organization.newName)],
            vacated_slugs: [expect.objectContaining({ slug: toSlug(organization.name) })],
          });
          expect(record).not.toHaveProperty('operation');
        }, 40_000);

        const [oldStorage, newStorage] = [storageNameOf(organization.name), storageNameOf(organization.newName)];
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
        // Nothing of the old storage is left: no collection at once, and its database once its reservation is over.
        expect(await storage.listed(oldStorage, { collections: true })).toEqual([]);
        await eventually(async () => expect(await storage.exists(oldStorage)).toBe(false), 40_000);

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
      // Above what the waits inside (app starts, kill attempts, recovery) take even when slow, so that those fail first.
    }, 300_000);
  },
);

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
