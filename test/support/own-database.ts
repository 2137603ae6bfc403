import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mongo } from 'mongoose';
import { LocalMongo, startLocalMongo } from '../../tools/local-mongo';
import { query } from './api';
import { randomSuffix } from './random';
import { TenantStorage } from './tenant-storage';
import { mode, startTestApp, TestApp, TestAppOptions } from './test-app';

/**
 * For the fault suites: a database server of their own (an H2 file in the temporary directory, so
 * that its data survives a restart), so the shared one is never disturbed, and a driver's view of
 * it (TenantStorage, over the server's own client), to check every outcome in the database, not only
 * through the API.
 */

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

export const idsOf = (documents: mongo.Document[]) => documents.map((document) => document._id.toString());
export const byName = (name: string) => `/org/get?${query({ organization_name: name })}`;

export interface OwnDatabaseApp {
  database: OwnDatabase;
  /** The suite's database as the driver sees it, over its own client rather than the app's connection. */
  storage: TenantStorage;
  testApp: TestApp;
}

/**
 * A database server of the suite's own and the app against it, with a short operation lease and
 * database timeout so that faults resolve within the test.
 */
export async function startOwnDatabaseApp(label: string, imports?: TestAppOptions['imports']): Promise<OwnDatabaseApp> {
  const database = await OwnDatabase.start(label);
  const storage = new TenantStorage(database.client, `faults_${label}_${mode()}_${randomSuffix()}`, mode());
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
