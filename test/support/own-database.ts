import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mongo } from 'mongoose';
import { toSlug } from '../../src/organizations/organization-name';
import { storageNameForSlug } from '../../src/tenancy/storage-names';
import { LocalMongo, startLocalMongo } from '../../tools/local-mongo';
import { query } from './api';
import { mode, randomSuffix, startTestApp, TestApp, TestAppOptions } from './test-app';

/**
 * For the fault suites: a database server of their own (an H2 file in the temporary directory, so
 * that its data survives a restart), so the shared one is never disturbed, and a driver's view of
 * where the tenancy layer keeps things, to check every outcome in the database, not only through the API.
 */

/** startTestApp writes its settings into process.env: put it back as it was after the calling file. */
export function restoreEnvironmentAfterAll(): void {
  const originalEnv = { ...process.env };
  afterAll(() => {
    for (const key of Object.keys(process.env)) {
      if (!(key in originalEnv)) {
        delete process.env[key];
      }
    }
    Object.assign(process.env, originalEnv);
  });
}

/** A database server of our own, restartable on the same port and data file, with a driver client to check it. */
export class OwnDatabase {
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
export class Storage {
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

export const storageFor = (name: string) => storageNameForSlug(toSlug(name));
export const idsOf = (documents: mongo.Document[]) => documents.map((document) => document._id.toString());
export const byName = (name: string) => `/org/get?${query({ organization_name: name })}`;

export interface OwnDatabaseApp {
  database: OwnDatabase;
  storage: Storage;
  testApp: TestApp;
}

/**
 * A database server of the suite's own and the app against it, with a short operation lease and
 * database timeout so that faults resolve within the test.
 */
export async function startOwnDatabaseApp(label: string, imports?: TestAppOptions['imports']): Promise<OwnDatabaseApp> {
  const database = await OwnDatabase.start(label);
  const storage = new Storage(database.client, `faults_${label}_${mode()}_${randomSuffix()}`);
  try {
    const testApp = await startTestApp({
      env: {
        MONGODB_URI: database.uri,
        MASTER_DB_NAME: storage.master,
        OPERATION_LEASE_MS: '500',
        DB_TIMEOUT_MS: '2000',
      },
      imports,
    });
    return { database, storage, testApp };
  } catch (error) {
    await database.dispose();
    throw error;
  }
}

/** Brings the database back if a test left it stopped, closes the app (failing the file if it ever answered a 500), removes the database. */
export async function closeOwnDatabaseApp({ database, testApp }: Partial<OwnDatabaseApp>): Promise<void> {
  try {
    try {
      await database?.restart();
    } finally {
      await testApp?.close({ dropDatabases: false });
    }
  } finally {
    await database?.dispose();
  }
}
