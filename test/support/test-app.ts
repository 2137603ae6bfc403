import { ModuleMetadata } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, TestingModuleBuilder } from '@nestjs/testing';
import { Connection } from 'mongoose';
import { AppModule } from '../../src/app.module';
import { configureApp, fastifyOptions } from '../../src/app.setup';
import { TenancyMode, validateEnvironment } from '../../src/config/environment';
import { Api } from './api';
import { randomSuffix } from './random';
import { TenantStorage } from './tenant-storage';

/** Also importable from here, as before it had a module of its own (throttling.e2e-spec.ts does). */
export { randomSuffix } from './random';

export interface TestAppOptions {
  /** Settings on top of the test defaults, e.g. the same MASTER_DB_NAME to "restart" an app. */
  env?: Record<string, string>;
  imports?: ModuleMetadata['imports'];
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

export interface TestApp {
  app: NestFastifyApplication;
  /** The app's own master-database connection, for checking what a request did to the data. */
  connection: Connection;
  /** Where the app keeps each organization's documents, read over `connection`. */
  storage: TenantStorage;
  env: Record<string, string>;
  close(options?: { dropDatabases?: boolean }): Promise<void>;
}

/** The tenancy mode of this Jest project (test/jest-e2e.config.js runs every file once per mode). */
export const mode = (): TenancyMode => (globalThis as { TENANCY_MODE?: TenancyMode }).TENANCY_MODE as TenancyMode;

/**
 * Boots the real AppModule on Fastify, configured as main.ts does, against the e2e database.
 * Each app gets its own master database unless one is given.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    BCRYPT_COST: '10',
    JWT_SECRET: 'e2e-secret-that-is-long-enough-for-production-use',
    // Every injected request comes from 127.0.0.1; the throttling suite sets its own limits.
    LOGIN_RATE_LIMIT: '100000',
    LOGIN_FAILURE_CEILING: '100000',
    CREATE_RATE_LIMIT: '100000',
    CREATE_GLOBAL_RATE_LIMIT: '100000',
    // A vacated name is reserved for the handle lifetime, twice DB_TIMEOUT_MS (3 s) and the socket
    // timeout, plus 1 s: 11 s here.
    TENANT_HANDLE_TTL_MS: '1000',
    DB_SOCKET_TIMEOUT_MS: '3000',
    MASTER_DB_NAME: `e2e_${mode()}_${randomSuffix()}`,
    TENANCY_MODE: mode(),
    MONGODB_URI: process.env.MONGODB_URI as string,
    ...options.env,
  };
  const validated = validateEnvironment(env);
  const builder = Test.createTestingModule({ imports: [AppModule.forRoot(validated), ...(options.imports ?? [])] });
  const moduleRef = await (options.override ? options.override(builder) : builder).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(fastifyOptions(validated)));
  await configureApp(app, validated);
  await app.init();
  const serverErrors = recordServerErrors(app);
  await app.getHttpAdapter().getInstance().ready();
  const connection = app.get<Connection>(getConnectionToken());
  const storage = new TenantStorage(connection, env.MASTER_DB_NAME, env.TENANCY_MODE as TenancyMode);
  return {
    app,
    connection,
    storage,
    env,
    async close({ dropDatabases = true } = {}) {
      if (dropDatabases) {
        // The master database and, in database mode, the tenant databases its organizations own.
        await storage.dropAll();
      }
      await app.close();
      expect(serverErrors).toEqual([]);
    },
  };
}

/**
 * Starts one app for the enclosing describe block, and closes it (dropping its databases) after.
 * `testApp()` is the running app; `api` talks to it.
 */
export function useTestApp(options: TestAppOptions = {}): { testApp: () => TestApp; api: Api } {
  let running: TestApp | undefined;
  beforeAll(async () => {
    running = await startTestApp(options);
  });
  afterAll(() => running?.close());
  const testApp = () => running as TestApp;
  return { testApp, api: new Api(() => testApp().app) };
}

/** A 500 is always a bug: every app of the suite fails its test file if it ever answered one. */
function recordServerErrors(app: NestFastifyApplication): string[] {
  const serverErrors: string[] = [];
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', async (request, reply) => {
      if (reply.statusCode >= 500 && reply.statusCode !== 503) {
        serverErrors.push(`${request.method} ${request.url} -> ${reply.statusCode}`);
      }
    });
  return serverErrors;
}
