#!/usr/bin/env node
'use strict';
/**
 * `npm start`: brings dist/ up to date with src/ (tools/build.js), then runs it. With no MONGODB_URI
 * (in the environment or .env), it first starts a local MongoDB wire-protocol server keeping its data
 * in .data/, so a newcomer needs nothing else.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { build, DIST } = require('./build');
const { DataInUseError, startLocalMongo } = require('./local-mongo');

const ROOT = path.join(__dirname, '..');

async function main() {
  await build();
  const envFile = path.join(ROOT, '.env');
  if (fs.existsSync(envFile)) {
    process.loadEnvFile(envFile);
  }
  const env = { ...process.env };
  let database;
  if (!env.MONGODB_URI) {
    // LOCAL_DATA_DIR gives a second local database a folder of its own.
    const dataDir = path.resolve(ROOT, env.LOCAL_DATA_DIR ?? '.data');
    database = await startPrivateMongo(dataDir, Number(env.LOCAL_MONGO_PORT ?? 0));
    env.MONGODB_URI = database.uri;
    const where = path.relative(ROOT, dataDir) || dataDir;
    console.error(`MONGODB_URI is not set: using a local MongoDB-wire server at ${database.uri} (data in ${where}/)`);
  }
  const app = spawn(process.execPath, [path.join(DIST, 'main.js')], { env, stdio: 'inherit', cwd: ROOT });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => app.kill(signal));
  }
  app.on('exit', async (code, signal) => {
    await database?.stop();
    process.exit(code ?? (signal ? 1 : 0));
  });
}

/**
 * The local server, its data readable by this user only: .data/ is 700 and everything in it 600
 * (the umask covers the files the server creates; chmod, those of earlier versions).
 */
async function startPrivateMongo(dataDir, port) {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);
  for (const entry of fs.readdirSync(dataDir, { withFileTypes: true })) {
    fs.chmodSync(path.join(dataDir, entry.name), entry.isDirectory() ? 0o700 : 0o600);
  }
  // Where the running server is, for a second `npm start` to point at.
  const uriFile = path.join(dataDir, 'mongo.uri');
  const umask = process.umask(0o077);
  try {
    const database = await startLocalMongo({ port, dataFile: path.join(dataDir, 'mongo.mv') });
    fs.writeFileSync(uriFile, `${database.uri}\n`, { mode: 0o600 });
    return database;
  } catch (error) {
    throw error instanceof DataInUseError ? new Error(dataInUse(dataDir, uriFile)) : error;
  } finally {
    process.umask(umask);
  }
}

function dataInUse(dataDir, uriFile) {
  const uri = fs.existsSync(uriFile) ? fs.readFileSync(uriFile, 'utf8').trim() : 'the URI it printed';
  return (
    `The local database in ${dataDir} is in use by another npm start: stop that one, or run this one ` +
    `against it with MONGODB_URI=${uri} PORT=<another port> npm start (or with a folder of its own: LOCAL_DATA_DIR=<folder>)`
  );
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
