import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assertDriverPatched, DRIVER_NOT_PATCHED } from './driver-patch';

describe('assertDriverPatched', () => {
  it('accepts the installed driver, which npm ci patched', () => {
    expect(() => assertDriverPatched()).not.toThrow();
  });

  it('refuses a driver file without the fix, with a message that says what to do', () => {
    const unpatched = path.join(mkdtempSync(path.join(tmpdir(), 'driver-')), 'connection.js');
    writeFileSync(unpatched, 'class Connection {}\n');
    expect(() => assertDriverPatched(unpatched)).toThrow(DRIVER_NOT_PATCHED);
  });
});
