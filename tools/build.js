#!/usr/bin/env node
'use strict';
/**
 * `npm run build` (and `npm start`, before it runs the service): brings dist/ up to date with src/.
 *
 * The build is `nest build` (the only build that applies the @nestjs/swagger CLI plugin), made
 * incremental (nest-cli.json: deleteOutDir false; tsconfig.build.json: incremental, with its
 * tsbuildinfo inside dist/ so that deleting dist/ also forgets it), and skipped altogether while
 * nothing it reads has changed since the last build. Because dist/ is no longer emptied first,
 * outputs whose source file is gone are removed after each build: a stale module must never be
 * loaded in place of the one that replaced it (`x.js` shadows a new `x/index.js`).
 */
const { spawn } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const SRC = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');
/** What dist/ was last built from: a hash of every build input, written after a successful build. */
const BUILT_FROM = path.join(DIST, '.built-from');
/** tsconfig.build.json's tsBuildInfoFile. */
const TS_BUILD_INFO = path.join(DIST, 'tsconfig.build.tsbuildinfo');
/** Besides src/ (spec files aside): what else decides the build's output. */
const BUILD_CONFIG = [
  'tsconfig.json',
  'tsconfig.build.json',
  'nest-cli.json',
  'package.json',
  'package-lock.json',
  'node_modules/.package-lock.json',
];
/** What tsc emits for a source file `x.ts` (declaration maps included, should they be turned on). */
const OUTPUT_SUFFIXES = ['.js', '.js.map', '.d.ts', '.d.ts.map'];

/** Runs `nest build` unless dist/ was built from exactly the current inputs; exits if it fails. */
async function build() {
  const inputs = buildInputsHash();
  if (fs.existsSync(path.join(DIST, 'main.js')) && readOrNull(BUILT_FROM) === inputs) {
    console.error('build: dist/ is up to date with src/');
    return;
  }
  if (fs.existsSync(TS_BUILD_INFO)) {
    recordTypeCheck();
  }
  const cli = path.join(path.dirname(require.resolve('@nestjs/cli/package.json')), 'bin', 'nest.js');
  const code = await new Promise((resolve) => {
    const nest = spawn(process.execPath, [cli, 'build'], { cwd: ROOT, stdio: 'inherit' });
    nest.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
    nest.on('error', (error) => {
      console.error(`nest build could not start: ${error.message}`);
      resolve(1);
    });
  });
  if (code !== 0) {
    process.exit(code);
  }
  const removed = removeStaleOutputs(DIST);
  if (removed.length > 0) {
    console.error(`build: removed ${removed.length} file(s) of deleted sources from dist/: ${removed.join(', ')}`);
  }
  fs.writeFileSync(BUILT_FROM, `${inputs}\n`);
}

/**
 * `nest build` emits before it type-checks, so its tsbuildinfo never records a finished check, and
 * every build checked every file again (about 3 s of each). Checking first, and saving that in the
 * tsbuildinfo, leaves nest build only the files that changed to check, and to emit. Any error is
 * left for nest build to report; should this step fail in any way, nest build simply checks all.
 * Not for a first build (no tsbuildinfo yet): there nest build checks everything anyway, and a
 * check beforehand would only add to the wait; the next build records it.
 */
function recordTypeCheck() {
  try {
    const ts = require('typescript');
    const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined };
    const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.build.json'), {}, host);
    if (!config || config.errors.length > 0) {
      return;
    }
    const program = ts.createIncrementalProgram({
      rootNames: config.fileNames,
      options: config.options,
      projectReferences: config.projectReferences,
    });
    program.getSemanticDiagnostics();
    program.emitBuildInfo();
  } catch {
    // nest build does the whole check itself
  }
}

/** A hash of the content of every file the build reads: src/ (spec files aside) and BUILD_CONFIG. */
function buildInputsHash() {
  const hash = createHash('sha256');
  const files = [
    ...listFiles(SRC).filter((file) => !file.endsWith('.spec.ts')),
    ...BUILD_CONFIG.map((file) => path.join(ROOT, file)),
  ];
  for (const file of files) {
    hash.update(`${path.relative(ROOT, file)}\0`);
    hash.update(fs.existsSync(file) ? fs.readFileSync(file) : '(absent)');
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** Deletes dist/ outputs whose src/ source no longer exists, and the directories left empty; returns them. */
function removeStaleOutputs(dist) {
  const removed = [];
  for (const file of listFiles(dist)) {
    const relative = path.relative(dist, file);
    const suffix = OUTPUT_SUFFIXES.find((candidate) => relative.endsWith(candidate));
    if (!suffix || path.basename(relative).startsWith('.')) {
      continue;
    }
    const source = path.join(SRC, `${relative.slice(0, -suffix.length)}.ts`);
    if (!fs.existsSync(source)) {
      fs.rmSync(file);
      removed.push(relative);
    }
  }
  removeEmptyDirectories(dist);
  return removed;
}

function removeEmptyDirectories(directory) {
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      const child = path.join(directory, entry.name);
      removeEmptyDirectories(child);
      if (fs.readdirSync(child).length === 0) {
        fs.rmdirSync(child);
      }
    }
  }
}

/** Every file under `directory`, recursively, in a stable order; none if it does not exist. */
function listFiles(directory) {
  if (!fs.existsSync(directory)) {
    return [];
  }
  return fs
    .readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

function readOrNull(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

module.exports = { build, DIST };

if (require.main === module) {
  build().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
