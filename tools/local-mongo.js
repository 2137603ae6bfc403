#!/usr/bin/env node
'use strict';
/**
 * Starts a local MongoDB wire-protocol server for development, tests and CI.
 *
 * No MongoDB binary can be downloaded on our machines, so the server is mongo-java-server wrapped by the
 * small launcher in tools/mongo-server (a runnable jar, built with Maven on first use). If Java is missing,
 * it falls back to mongodb-memory-server (the optional dependency mongodb-memory-server-core), which
 * downloads a MongoDB binary on first use.
 *
 *   const { startLocalMongo } = require('./tools/local-mongo');
 *   const db = await startLocalMongo({ dataFile: '.data/mongo.mv' }); // or { memory: true }
 *   // ... db.uri === 'mongodb://127.0.0.1:<port>'
 *   await db.stop();
 *
 * CLI: node tools/local-mongo.js [--port N] [--data FILE | --memory]   (runs until Ctrl-C)
 *
 * Plain CommonJS with Node built-ins only, so that it runs before anything is compiled or installed.
 */

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const SERVER_DIR = path.join(__dirname, 'mongo-server');
const POM = path.join(SERVER_DIR, 'pom.xml');
const JAR = path.join(SERVER_DIR, 'target', 'local-mongo-server.jar');
const JAVA_SOURCES = path.join(SERVER_DIR, 'src', 'main', 'java', 'dev', 'orgservice', 'mongo');
const jarSources = () => [POM, ...fs.readdirSync(JAVA_SOURCES).map((file) => path.join(JAVA_SOURCES, file))];
const BUILD_ARGS = ['-q', '-f', POM, 'package', '-DskipTests'];

// The server is small and mostly idle: a serial GC, the C1 compiler only and a capped heap. Measured on a
// 2-core, 24 GB machine: ~200 ms to "listening" and ~49 MB RSS idle (JVM defaults: ~250-450 ms, ~59 MB),
// and 111 MB instead of 874 MB after writing 11 000 documents to H2, since by default the JVM sizes its heap
// to a quarter of the RAM. -Xmx256m also caps what the --memory backend can hold (measured: 164 000 documents
// of 1 kB); a full heap makes the server exit (code 3) rather than limp on. Override with
// LOCAL_MONGO_JAVA_OPTS (space-separated), e.g. LOCAL_MONGO_JAVA_OPTS="-XX:+UseSerialGC -Xmx1g".
const DEFAULT_JVM_FLAGS = [
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Xss512k',
  '-Xms16m',
  '-Xmx256m',
  '-XX:+ExitOnOutOfMemoryError',
];
const READY_LINE = /^mongo-java-server listening on (.+):(\d+)\s*$/;
const START_TIMEOUT_MS = 60_000;
const KILL_AFTER_MS = 5_000;
const STDERR_TAIL_CHARS = 4_000;

let javaAvailableCache;

/** True if `java` is on PATH and runs. */
function javaAvailable() {
  if (javaAvailableCache === undefined) {
    const result = spawnSync('java', ['-version'], { stdio: 'ignore', timeout: 30_000 });
    javaAvailableCache = !result.error && result.status === 0;
  }
  return javaAvailableCache;
}

/** LOCAL_MONGO_JAVA_OPTS, else the defaults with the heap cap of `heapMiB` when given. */
function jvmFlags(heapMiB) {
  const fromEnv = process.env.LOCAL_MONGO_JAVA_OPTS;
  if (fromEnv !== undefined) return fromEnv.split(/\s+/).filter(Boolean);
  return heapMiB
    ? DEFAULT_JVM_FLAGS.map((flag) => (flag.startsWith('-Xmx') ? `-Xmx${heapMiB}m` : flag))
    : DEFAULT_JVM_FLAGS;
}

function mtimeMs(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

let buildPromise;

/** Builds the jar with Maven if it is missing or older than its sources. */
function ensureJar() {
  const jarTime = mtimeMs(JAR);
  if (jarTime > 0 && jarSources().every((file) => mtimeMs(file) <= jarTime)) {
    return Promise.resolve(JAR);
  }
  if (!buildPromise) {
    buildPromise = new Promise((resolve, reject) => {
      const command = `mvn ${BUILD_ARGS.join(' ')}`;
      process.stderr.write(`local-mongo: building ${path.relative(process.cwd(), JAR)} (${command})\n`);
      // Maven's output goes to our stderr, so that our stdout stays clean for callers.
      const mvn = spawn('mvn', BUILD_ARGS, { stdio: ['ignore', 2, 'inherit'] });
      mvn.on('error', (err) => {
        reject(
          new Error(
            `local-mongo: cannot run Maven to build the mongo server jar (${err.message}); ` +
              `install Maven 3.8+ or build it elsewhere with: ${command}`,
          ),
        );
      });
      mvn.on('exit', (code, signal) => {
        if (code === 0 && fs.existsSync(JAR)) {
          resolve(JAR);
        } else {
          reject(
            new Error(
              `local-mongo: building the mongo server jar failed (${command} exited with ` +
                `${signal ? `signal ${signal}` : `code ${code}`}; see Maven's output above)`,
            ),
          );
        }
      });
    }).finally(() => {
      buildPromise = undefined;
    });
  }
  return buildPromise;
}

/**
 * Returns a private copy of the jar to run. Maven rewrites target/local-mongo-server.jar in place, and a
 * JVM reads classes from its jar lazily, so a rebuild (after someone edits the launcher) would break
 * servers still running from that file. Each build gets its own copy, written under a temporary name and
 * renamed, and copies of older builds are removed: running JVMs keep their open (unlinked) file.
 */
function runnableJar() {
  const { mtimeMs: built, size } = fs.statSync(JAR);
  const dir = path.join(SERVER_DIR, 'target', 'run');
  const name = `local-mongo-server-${Math.round(built)}-${size}.jar`;
  const copy = path.join(dir, name);
  if (!fs.existsSync(copy)) {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${copy}.${process.pid}.tmp`;
    fs.copyFileSync(JAR, tmp);
    fs.renameSync(tmp, copy);
    for (const old of fs.readdirSync(dir)) {
      // Leave a minute's grace to a server that was just spawned but may not have opened its jar yet.
      const file = path.join(dir, old);
      if (old !== name && Date.now() - mtimeMs(file) > 60_000) fs.rmSync(file, { force: true });
    }
  }
  return copy;
}

/** Finds a free TCP port on 127.0.0.1. */
/** A TCP port on 127.0.0.1 that nothing listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ---- children must not outlive us -----------------------------------------------------------------------

const liveChildren = new Set();
let exitHooksInstalled = false;

function installExitHooks() {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  // 'exit' allows synchronous work only: a SIGTERM lets the server close its H2 file by itself.
  process.on('exit', () => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGTERM');
      } catch {
        // already gone
      }
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    const onSignal = () => {
      // Another handler (the app's graceful shutdown, a CLI) owns this signal: it decides when to exit, and
      // our 'exit' hook stops the server then. Otherwise we exit as Node would have (our listener replaced
      // Node's default of dying by the signal), with the shell's code for it; the 'exit' hook stops the
      // servers. (Re-raising the signal is not reliable: a process started in the background by a
      // non-interactive shell inherits SIGINT as ignored.)
      if (process.listenerCount(signal) > 1) return;
      process.exit(128 + os.constants.signals[signal]);
    };
    process.on(signal, onSignal);
  }
}

// ---- starting mongo-java-server ---------------------------------------------------------------------------

class PortInUseError extends Error {}
/** Another server holds the data file (H2 locks it while open). */
class DataInUseError extends Error {}

function spawnJavaServer({ jar, port, dataFile, memory, heapMiB }) {
  const args = [...jvmFlags(heapMiB), '-jar', jar, '--port', String(port), '--bind', '127.0.0.1'];
  args.push(...(memory ? ['--memory'] : ['--data', dataFile]));
  // The server watches its stdin: when this process dies in any way (even SIGKILL), the OS closes the pipe
  // and the server shuts itself down.
  args.push('--exit-on-stdin-eof');

  const child = spawn('java', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  liveChildren.add(child);
  installExitHooks();

  let stderrTail = '';
  let stdoutBuffer = '';
  // Keep reading both pipes for the whole life of the server: a full pipe would block it.
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
  });
  child.stdout.setEncoding('utf8');

  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      liveChildren.delete(child);
      resolve({ code, signal });
    });
  });

  const ready = new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn(value);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle(
        reject,
        new Error(
          `local-mongo: mongo-java-server did not report "listening" within ` +
            `${START_TIMEOUT_MS / 1000} s (java ${args.join(' ')})\n--- server stderr (tail) ---\n${stderrTail}`,
        ),
      );
    }, START_TIMEOUT_MS);

    child.stdout.on('data', (chunk) => {
      if (settled) return;
      stdoutBuffer += chunk;
      const lines = stdoutBuffer.split('\n');
      stdoutBuffer = lines.pop(); // an incomplete last line waits for the next chunk
      for (const line of lines) {
        const match = READY_LINE.exec(line);
        if (match) settle(resolve, Number(match[2]));
      }
    });
    child.on('error', (err) => {
      settle(reject, new Error(`local-mongo: cannot start java (${err.message})`));
    });
    // 'close' (unlike 'exit') comes after the last stderr data has been read.
    child.once('close', (code, signal) => {
      const message =
        `local-mongo: mongo-java-server exited before it was ready ` +
        `(${signal ? `signal ${signal}` : `exit code ${code}`}; java ${args.join(' ')})\n` +
        `--- server stderr (tail) ---\n${stderrTail}`;
      const ErrorKind = /cannot listen on .*(?:BindException|Address already in use)/i.test(stderrTail)
        ? PortInUseError
        : /The file is locked/.test(stderrTail)
          ? DataInUseError
          : Error;
      settle(reject, new ErrorKind(message));
    });
  });

  let stopPromise;
  const stop = () => {
    if (!stopPromise) {
      stopPromise = (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.ref(); // keep Node alive until the server is really gone
        child.kill('SIGTERM');
        const killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
        await exited;
        clearTimeout(killTimer);
      })();
    }
    return stopPromise;
  };

  return { child, ready, stop };
}

async function startJavaServer({ port, dataFile, memory, heapMiB }) {
  await ensureJar();
  const jar = runnableJar();
  // A port picked by freePort can be taken by someone else before the server binds it: retry then.
  const attempts = port ? 1 : 3;
  for (let attempt = 1; ; attempt++) {
    const actualPort = port || (await freePort());
    const server = spawnJavaServer({ jar, port: actualPort, dataFile, memory, heapMiB });
    try {
      const listeningPort = await server.ready;
      // From here on the server must not keep Node alive by itself (Jest global setup, scripts): the exit
      // hooks and the stdin pipe stop it when Node exits.
      server.child.unref();
      for (const stream of [server.child.stdin, server.child.stdout, server.child.stderr]) stream.unref();
      return {
        uri: `mongodb://127.0.0.1:${listeningPort}`,
        port: listeningPort,
        stop: server.stop,
        process: server.child,
      };
    } catch (err) {
      await server.stop();
      if (!(err instanceof PortInUseError) || attempt >= attempts) throw err;
    }
  }
}

// ---- fallback: mongodb-memory-server (it downloads a mongod binary on first use) -------------------------

async function startMemoryServer({ port, dataFile, log }) {
  let MongoMemoryServer;
  try {
    ({ MongoMemoryServer } = require('mongodb-memory-server-core'));
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND') throw err;
    throw new Error(
      'local-mongo: Java was not found on PATH and the optional dependency mongodb-memory-server-core ' +
        'is not installed. Install a JDK 17+ (and Maven), or run: npm install mongodb-memory-server-core',
    );
  }
  log('local-mongo: Java not found on PATH; using mongodb-memory-server instead of mongo-java-server');
  const instance = {};
  if (port) instance.port = port;
  if (dataFile) {
    // mongod keeps its data in a directory, not in one file; wiredTiger is its on-disk engine.
    instance.dbPath = `${path.resolve(dataFile)}.mongod`;
    instance.storageEngine = 'wiredTiger';
    fs.mkdirSync(instance.dbPath, { recursive: true });
  }
  const server = await MongoMemoryServer.create({ instance });
  const uri = new URL(server.getUri());
  let stopPromise;
  return {
    uri: `mongodb://127.0.0.1:${uri.port}`,
    port: Number(uri.port),
    stop: () => {
      stopPromise = stopPromise || server.stop().then(() => undefined);
      return stopPromise;
    },
    process: server.instanceInfo?.instance?.mongodProcess ?? null,
  };
}

// ---- public API -------------------------------------------------------------------------------------------

/**
 * Starts a local MongoDB server.
 *
 * @param {object} [options]
 * @param {number} [options.port] TCP port on 127.0.0.1; 0 or omitted picks a free port.
 * @param {string} [options.dataFile] H2 MVStore file: data survives restarts. Mutually exclusive with memory.
 * @param {boolean} [options.memory] Keep data in memory only (the default when no dataFile is given).
 * @param {(line: string) => void} [options.log] Where to report the mongodb-memory-server fallback (stderr).
 * @param {number} [options.heapMiB] The server's heap cap instead of 256 MiB (not with LOCAL_MONGO_JAVA_OPTS).
 * @returns {Promise<{uri: string, port: number, stop: () => Promise<void>, process: import('child_process').ChildProcess | null}>}
 */
async function startLocalMongo({ port = 0, dataFile, memory, log, heapMiB } = {}) {
  if (dataFile && memory) throw new Error('local-mongo: give either dataFile or memory, not both');
  if (!Number.isInteger(Number(port)) || Number(port) < 0 || Number(port) > 65535) {
    throw new Error(`local-mongo: invalid port ${port}`);
  }
  const logLine = typeof log === 'function' ? log : (line) => process.stderr.write(`${line}\n`);
  const file = dataFile ? path.resolve(dataFile) : undefined;
  if (!javaAvailable()) {
    return startMemoryServer({ port: Number(port), dataFile: file, log: logLine });
  }
  return startJavaServer({ port: Number(port), dataFile: file, memory: !file, heapMiB });
}

module.exports = {
  startLocalMongo,
  javaAvailable,
  freePort,
  DataInUseError,
  JAR,
  BUILD_COMMAND: `mvn ${BUILD_ARGS.join(' ')}`,
};

// ---- CLI --------------------------------------------------------------------------------------------------

if (require.main === module) {
  const usage = 'usage: node tools/local-mongo.js [--port N] [--data FILE | --memory]';
  const options = { port: 27017 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--port' && argv[i + 1] !== undefined) options.port = Number(argv[++i]);
    else if (arg === '--data' && argv[i + 1] !== undefined) options.dataFile = argv[++i];
    else if (arg === '--memory') options.memory = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(usage);
      process.exit(0);
    } else {
      console.error(`${usage}\nunknown or incomplete argument: ${arg}`);
      process.exit(2);
    }
  }

  startLocalMongo(options)
    .then((server) => {
      const where = options.dataFile ? `data in ${path.resolve(options.dataFile)}` : 'data in memory only';
      console.log(`MongoDB ready at ${server.uri} (${where}); press Ctrl-C to stop`);
      const keepAlive = setInterval(() => {}, 1 << 30);
      let stopping = false;
      const shutdown = (signal) => {
        if (stopping) return;
        stopping = true;
        console.error(`local-mongo: ${signal} received, stopping the server`);
        server.stop().then(() => {
          clearInterval(keepAlive);
          process.exit(0);
        });
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
      // The server dying on its own ends the CLI too.
      if (server.process) {
        server.process.on('exit', (code, signal) => {
          if (stopping) return;
          console.error(`local-mongo: the server exited unexpectedly (${signal || `code ${code}`})`);
          process.exit(1);
        });
      }
    })
    .catch((err) => {
      console.error(err.message);
      process.exit(1);
    });
}
