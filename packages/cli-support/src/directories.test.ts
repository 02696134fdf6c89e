import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDirectory } from './directories.ts';
import { runScriptInChild } from './testing.ts';

describe('makeDirectory', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'rtt-mkdir-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('makes the missing parents too, each with the mode', () => {
    const deep = join(root, 'a', 'b', 'c');
    makeDirectory(deep, 0o700);
    expect(statSync(deep).isDirectory()).toBe(true);
    expect(statSync(join(root, 'a')).mode & 0o777).toBe(0o700);
    expect(statSync(deep).mode & 0o777).toBe(0o700);
  });

  it('accepts a directory that is already there', () => {
    makeDirectory(root);
    makeDirectory(join(root, 'x', 'y'));
    makeDirectory(join(root, 'x', 'y'));
    expect(statSync(join(root, 'x', 'y')).isDirectory()).toBe(true);
  });

  it('refuses a file in the way, as mkdir -p does', () => {
    const file = join(root, 'file');
    writeFileSync(file, '');
    expect(() => makeDirectory(file)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(() => makeDirectory(join(file, 'below'))).toThrow(
      expect.objectContaining({ code: 'ENOTDIR' }),
    );
  });

  // In a child with a time limit: Node's own recursive mkdir spins here and would block this
  // thread past any test timeout.
  it.runIf(existsSync('/proc/self'))('fails at once under /proc instead of spinning', () => {
    const module = JSON.stringify(new URL('./directories.ts', import.meta.url).href);
    const script = `import { makeDirectory } from ${module};
      try { makeDirectory('/proc/rtt-no-such-dir/state'); } catch (err) { console.log(err.code); }`;
    expect(runScriptInChild(script)).toBe('ENOENT');
  });
});
