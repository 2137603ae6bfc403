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
const { startLocalMongo } = require('./local-mongo');

const ROOT = path.join(__dirname, '..');
const DATA_FILE = path.join(ROOT, '.data', 'mongo.mv');

async function main() {
  await build();
  const envFile = path.join(ROOT, '.env');
  if (fs.existsSync(envFile)) {
    process.loadEnvFile(envFile);
  }
  const env = { ...process.env };
  let database;
  if (!env.MONGODB_URI) {
    fs.mkdirSync(path.dirname(DATA_FILE), { recursive: true });
    database = await startLocalMongo({ port: Number(env.LOCAL_MONGO_PORT ?? 0), dataFile: DATA_FILE });
    env.MONGODB_URI = database.uri;
    console.error(`MONGODB_URI is not set: using a local MongoDB-wire server at ${database.uri} (data in .data/)`);
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

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
