import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer, Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { AppProcess, spawnAppProcess, stopAllAppProcesses } from '../tools/app-process';
import { freePort } from '../tools/local-mongo';
import { PASSWORD } from './support/api';
import { randomSuffix } from './support/random';

/**
 * The built service as `npm start` runs it (NODE_ENV unset, so development), in a working directory
 * of its own, where it keeps its development JWT secret. Run once, not per tenancy mode
 * (test/jest-e2e.config.js): nothing here depends on it.
 */
describe('npm start, as separate processes (e2e)', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'first-run-'));
  const master = `e2e_first_run_${randomSuffix()}`;

  const developmentEnv = (port: number, host = '127.0.0.1') => ({
    MONGODB_URI: process.env.MONGODB_URI as string,
    MASTER_DB_NAME: master,
    BCRYPT_COST: '10',
    HOST: host,
    PORT: String(port),
  });

  afterAll(async () => {
    await stopAllAppProcesses();
    const client = await MongoClient.connect(process.env.MONGODB_URI as string);
    await client.db(master).dropDatabase();
    await client.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  const start = (env: Record<string, string>) => spawnAppProcess(env, { cwd: workDir });

  it('prints readable lines, ending with one that says where it listens; a restart keeps the sessions', async () => {
    const port = await freePort();
    const first = start(developmentEnv(port));
    const url = `http://127.0.0.1:${port}`;
    await waitFor(first, `listening on ${url} (API docs: ${url}/docs)`);
    const lines = linesOf(first);
    expect(lines.filter((line) => line.includes('listening on'))).toEqual([
      expect.stringMatching(
        new RegExp(`INFO.*: Organization Management Service listening on ${url} \\(API docs: ${url}/docs\\)$`),
      ),
    ]);
    expect(lines.filter((line) => line.trimStart().startsWith('{'))).toEqual([]);
    expect(lines.filter((line) => /Mapped \{|dependencies initialized|successfully started/.test(line))).toEqual([]);
    expect(lines.length).toBeLessThanOrEqual(5);

    const secretFile = join(workDir, '.data', 'jwt-secret');
    expect(existsSync(secretFile)).toBe(true);
    if (process.platform !== 'win32') {
      expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    }

    const email = `first-run-${randomSuffix()}@example.com`;
    const created = await fetch(`${url}/org/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ organization_name: `First Run ${randomSuffix()}`, email, password: PASSWORD }),
    });
    expect(created.status).toBe(201);
    const login = await fetch(`${url}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    await waitFor(first, 'POST /admin/login 200');
    expect(linesOf(first)).toEqual(
      expect.arrayContaining([expect.stringMatching(/request completed: POST \/org\/create 201 in \d+ ms$/)]),
    );
    await first.stop();

    const secondPort = await freePort();
    const second = start(developmentEnv(secondPort, '0.0.0.0'));
    await waitFor(
      second,
      `listening on http://localhost:${secondPort} (API docs: http://localhost:${secondPort}/docs)`,
    );
    const me = await fetch(`http://127.0.0.1:${secondPort}/admin/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(me.status).toBe(200);
    await second.stop();
  }, 120_000);

  it('says in one line that a taken port is taken, and exits with code 1', async () => {
    const blocker = await listeningServer();
    const port = (blocker.address() as { port: number }).port;
    try {
      const service = start(developmentEnv(port));
      const { code } = await service.exited;
      expect({ code, output: linesOf(service) }).toEqual({
        code: 1,
        output: expect.arrayContaining([`Port ${port} is already in use: set PORT to another port`]),
      });
      expect(service.output()).not.toMatch(/successfully started|listening on|\n\s+at /);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  describe('npm start with no MONGODB_URI (its own local database)', () => {
    const dataDir = join(workDir, 'local-data');
    const npmStart = (port: number, env: Record<string, string> = {}) =>
      spawnAppProcess(
        // No HOST: the default. A JWT secret given, so that nothing is written to the project's own .data/.
        { PORT: String(port), LOCAL_DATA_DIR: dataDir, JWT_SECRET: 'x'.repeat(48), BCRYPT_COST: '10', ...env },
        { cwd: workDir, script: join(__dirname, '..', 'tools', 'start.js') },
      );

    it('listens on this machine only, keeps its data readable by its owner only, and says so when the data is in use', async () => {
      const port = await freePort();
      const first = npmStart(port);
      await waitFor(first, `listening on http://127.0.0.1:${port}`);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      const outside = Object.values(networkInterfaces())
        .flat()
        .find((address) => address?.family === 'IPv4' && !address.internal);
      if (outside) {
        await expect(fetch(`http://${outside.address}:${port}/health`)).rejects.toThrow();
      }

      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      const files = readdirSync(dataDir);
      expect(files).toEqual(expect.arrayContaining(['mongo.mv', 'mongo.uri']));
      for (const file of files) {
        expect({ file, mode: statSync(join(dataDir, file)).mode & 0o777 }).toEqual({ file, mode: 0o600 });
      }

      // A second npm start on the same folder: one line that says what to do, no stack trace.
      const second = npmStart(await freePort());
      const { code } = await second.exited;
      const uri = readFileSync(join(dataDir, 'mongo.uri'), 'utf8').trim();
      expect({ code, output: linesOf(second).filter((line) => !line.startsWith('build:')) }).toEqual({
        code: 1,
        output: [
          `The local database in ${dataDir} is in use by another npm start: stop that one, or run this one against it ` +
            `with MONGODB_URI=${uri} PORT=<another port> npm start (or with a folder of its own: LOCAL_DATA_DIR=<folder>)`,
        ],
      });
      await first.stop();
    }, 120_000);

    it('runs WEB_CONCURRENCY workers on one port and its database, that tell each other of a revocation, and all stop on SIGTERM', async () => {
      const port = await freePort();
      // A bound of a minute: only the workers' messages can explain a revocation seen at once.
      const service = npmStart(port, { WEB_CONCURRENCY: '2', TOKEN_STATE_TTL_MS: '60000' });
      await waitFor(service, `listening on http://127.0.0.1:${port}`);
      const main = await eventuallyOne(() =>
        childrenOf(service.pid).filter((pid) => commandOf(pid).includes('main.js')),
      );
      const workers = await eventuallyCount(() => childrenOf(main), 2);
      await eventuallyCount(() => linesOf(service).filter((line) => line.includes('listening on')), 2);

      const url = `http://127.0.0.1:${port}`;
      const email = `workers-${randomSuffix()}@example.com`;
      const name = `Workers ${randomSuffix()}`;
      const created = await post(`${url}/org/create`, { organization_name: name, email, password: PASSWORD });
      expect(created.status).toBe(201);
      const token = (
        (await (await post(`${url}/admin/login`, { email, password: PASSWORD })).json()) as { access_token: string }
      ).access_token;
      // Each on a connection of its own, which the primary hands to the workers in turn.
      const statuses = () =>
        Promise.all(Array.from({ length: 6 }, () => statusOnNewConnection(`${url}/admin/me`, token)));
      expect(await statuses()).toEqual(Array(6).fill(200));

      const changed = await fetch(`${url}/org/update`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ organization_name: name, password: 'AnotherSecret456!' }),
      });
      expect(changed.status).toBe(200);
      expect(await statuses()).toEqual(Array(6).fill(401));

      service.child.kill('SIGTERM');
      expect((await service.exited).code).toBe(0);
      expect(workers.filter(isRunning)).toEqual([]);
    }, 120_000);
  });

  it('fails the install loudly when the driver patch no longer applies', () => {
    // A project whose driver differs from the one the patch was made for (as after a driver update).
    const project = mkdtempSync(join(tmpdir(), 'patch-'));
    const root = join(__dirname, '..');
    const driver = join(project, 'node_modules', 'mongodb');
    mkdirSync(join(driver, 'lib', 'cmap'), { recursive: true });
    writeFileSync(join(driver, 'package.json'), JSON.stringify({ name: 'mongodb', version: '7.8.0' }));
    writeFileSync(join(driver, 'lib', 'cmap', 'connection.js'), 'class Connection {}\n');
    cpSync(join(root, 'patches'), join(project, 'patches'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'patched', version: '1.0.0' }));
    const postinstall = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts.postinstall;
    const env = { PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}`, HOME: project };
    try {
      // What patch-package does by default outside CI: a warning, and success.
      expect(spawnSync('patch-package', { cwd: project, env, shell: true }).status).toBe(0);
      const install = spawnSync(postinstall, { cwd: project, env, shell: true, encoding: 'utf8' });
      expect(install.status).toBe(1);
      expect(install.stdout + install.stderr).toMatch(/mongodb/);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('says in one line that PORT=abc is no port, and exits with code 1', async () => {
    const service = start({ ...developmentEnv(0), PORT: 'abc' });
    const { code } = await service.exited;
    expect({ code, output: linesOf(service) }).toEqual({
      code: 1,
      output: ['Invalid configuration: PORT must be a whole number from 0 to 65535'],
    });
  });
});

/** The non-empty lines of what the process has written so far. */
function linesOf(service: AppProcess): string[] {
  return service
    .output()
    .split('\n')
    .filter((line) => line.trim() !== '');
}

/** Resolves once the output contains `text`; fails with the output if the process exits first or after 60 s. */
async function waitFor(service: AppProcess, text: string): Promise<void> {
  let gone = false;
  void service.exited.then(() => (gone = true));
  const deadline = Date.now() + 60_000;
  while (!service.output().includes(text)) {
    if (gone || Date.now() > deadline) {
      throw new Error(`expected the output to contain ${JSON.stringify(text)}; it was:\n${service.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function post(url: string, body: object): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** The status of a GET on a connection opened for it alone. */
function statusOnNewConnection(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { agent: false, headers: { authorization: `Bearer ${token}` } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
  });
}

function childrenOf(pid: number): number[] {
  const found = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout;
  return found.split('\n').filter(Boolean).map(Number);
}

function commandOf(pid: number): string {
  return existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
}

function isRunning(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

async function eventuallyCount<T>(list: () => T[], count: number): Promise<T[]> {
  const deadline = Date.now() + 60_000;
  let found = list();
  while (found.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    found = list();
  }
  expect(found).toHaveLength(count);
  return found;
}

async function eventuallyOne<T>(list: () => T[]): Promise<T> {
  return (await eventuallyCount(list, 1))[0];
}

function listeningServer(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
