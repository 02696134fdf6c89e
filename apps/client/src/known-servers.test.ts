import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScriptInChild } from '@rtt/cli-support/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  changedWarning,
  checkKnownServer,
  defaultKnownServersFile,
  forgetServer,
  parseKnownServers,
  parseServerAddress,
  readFingerprint,
  rememberServer,
  serverKey,
} from './known-servers.ts';

const A = `sha256:${'A'.repeat(43)}`;
const B = `sha256:${'B'.repeat(43)}`;

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rtt-known-'));
  file = join(dir, 'rtt', 'known_servers');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the known-servers file', () => {
  it('lives under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(defaultKnownServersFile({ XDG_CONFIG_HOME: '/cfg' }, '/home/u')).toBe(
      '/cfg/rtt/known_servers',
    );
    expect(defaultKnownServersFile({}, '/home/u')).toBe('/home/u/.config/rtt/known_servers');
    expect(defaultKnownServersFile({ XDG_CONFIG_HOME: 'rel' }, '/home/u')).toBe(
      '/home/u/.config/rtt/known_servers',
    );
  });

  it('keys servers as host:port, IPv6 in brackets, names in lower case', () => {
    expect(serverKey('127.0.0.1', 7777)).toBe('127.0.0.1:7777');
    expect(serverKey('::1', 7777)).toBe('[::1]:7777');
    expect(serverKey('Example.ORG', 80)).toBe('example.org:80');
    expect(parseServerAddress('[::1]:7000', 7777)).toEqual({ host: '::1', port: 7000 });
    expect(parseServerAddress('::1', 7777)).toEqual({ host: '::1', port: 7777 });
    expect(parseServerAddress('h:1', 7777)).toEqual({ host: 'h', port: 1 });
    expect(parseServerAddress('h', 7000)).toEqual({ host: 'h', port: 7000 });
    expect(parseServerAddress('h:99999', 7777)).toBeUndefined();
    expect(parseServerAddress('a b', 7777)).toBeUndefined();
    expect(parseServerAddress('', 7777)).toBeUndefined();
  });

  it('reads server lines, skips comments and blank lines, and keeps unreadable ones as such', () => {
    expect(parseKnownServers(`# c\n\nh:1 ${A}  # mine\nnonsense\nh:2 md5:x\n[::1]:3 ${B}`)).toEqual(
      [
        { key: 'h:1', fingerprint: A, text: A, line: 3 },
        { key: 'nonsense', fingerprint: undefined, text: '', line: 4 },
        { key: 'h:2', fingerprint: undefined, text: 'md5:x', line: 5 },
        { key: '[::1]:3', fingerprint: B, text: B, line: 6 },
      ],
    );
  });

  it("reads OpenSSH's SHA256: and a comment after the fingerprint, as known_hosts allows", () => {
    const upper = A.replace('sha256:', 'SHA256:');
    expect(parseKnownServers(`H:1 ${upper} trusted-2026\nh:2 ${B}= office  server\r\n`)).toEqual([
      { key: 'h:1', fingerprint: A, text: upper, line: 1 },
      { key: 'h:2', fingerprint: B, text: `${B}=`, line: 2 },
    ]);
    expect(readFingerprint(`Sha256:${'a'.repeat(43)}`)).toBe(`sha256:${'a'.repeat(43)}`);
    for (const bad of [`${A}A`, A.slice(0, -1), `${A}==`, A.replace('sha256', 'md5'), 'sha256:']) {
      expect(readFingerprint(bad)).toBeUndefined();
    }
  });

  it('compares the base64 as written: its case is part of the fingerprint', () => {
    const at = join(dir, 'ks');
    writeFileSync(at, `h:1 sha256:${'a'.repeat(43)}\n`);
    expect(checkKnownServer(at, 'h:1', A)).toEqual({
      kind: 'changed',
      expected: `sha256:${'a'.repeat(43)}`,
      line: 1,
    });
  });

  it("fails closed on a line of the server that it cannot read, and ignores others' bad lines", () => {
    const at = join(dir, 'ks');
    // Even beside a matching line: the unreadable one may be the newer word on this server.
    writeFileSync(at, `# mine\nh:1 ${A}\nh:1 sha256:AAAA\n`);
    expect(checkKnownServer(at, 'h:1', A)).toEqual({
      kind: 'unreadable',
      line: 3,
      text: 'sha256:AAAA',
    });
    writeFileSync(at, 'h:1\n');
    expect(checkKnownServer(at, 'h:1', A)).toEqual({ kind: 'unreadable', line: 1, text: '' });
    writeFileSync(at, `h:2 md5:00ff\nh:3\nh:1 ${A}\n`);
    expect(checkKnownServer(at, 'h:1', A)).toEqual({ kind: 'match' });
    expect(checkKnownServer(at, 'h:4', A)).toEqual({ kind: 'new' });
  });

  it('trusts on first use: new, then match; another certificate is changed, with its line', () => {
    expect(checkKnownServer(file, 'h:1', A)).toEqual({ kind: 'new' });
    rememberServer(file, 'h:1', A);
    rememberServer(file, 'h:2', B);
    expect(checkKnownServer(file, 'h:1', A)).toEqual({ kind: 'match' });
    expect(checkKnownServer(file, 'h:2', A)).toEqual({ kind: 'changed', expected: B, line: 3 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'rtt')).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, 'utf8')).toMatch(/^#.*\nh:1 sha256:A+\nh:2 sha256:B+\n$/);
  });

  it('writes its header only into a file it creates', () => {
    rememberServer(file, 'h:1', A);
    expect(readFileSync(file, 'utf8').split('\n')).toEqual([
      expect.stringMatching(/^# rtt-client known servers/),
      `h:1 ${A}`,
      '',
    ]);
    // One that is there (another client made it a moment ago, or a person) gets no header.
    writeFileSync(file, '');
    rememberServer(file, 'h:2', B);
    expect(readFileSync(file, 'utf8')).toBe(`h:2 ${B}\n`);
  });

  it('reads a line written by hand another way as the server it names', () => {
    const at = join(dir, 'ks');
    writeFileSync(at, `[0:0:0:0:0:0:0:1]:7777 ${A}\nExample.ORG.:07000 ${B}\n`);
    expect(serverKey('0:0:0:0:0:0:0:1', 7777)).toBe('[::1]:7777');
    expect(serverKey('example.org.', 7000)).toBe('example.org:7000');
    expect(checkKnownServer(at, serverKey('::1', 7777), A)).toEqual({ kind: 'match' });
    expect(checkKnownServer(at, serverKey('example.org', 7000), A)).toEqual({
      kind: 'changed',
      expected: B,
      line: 2,
    });
  });

  it('appends after a last line without a newline, and accepts any matching line', () => {
    rememberServer(file, 'x:1', A);
    writeFileSync(file, `h:1 ${A}`);
    rememberServer(file, 'h:1', B);
    expect(readFileSync(file, 'utf8')).toBe(`h:1 ${A}\nh:1 ${B}\n`);
    expect(checkKnownServer(file, 'h:1', B)).toEqual({ kind: 'match' });
  });

  it('forgets every line of a server and keeps the rest', () => {
    rememberServer(file, 'h:1', A);
    rememberServer(file, 'h:2', B);
    rememberServer(file, 'h:1', B);
    expect(forgetServer(file, 'h:1')).toEqual([2, 4]);
    expect(readFileSync(file, 'utf8')).toMatch(/^#.*\nh:2 sha256:B+\n$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(forgetServer(file, 'h:1')).toEqual([]);
    expect(forgetServer(join(dir, 'none'), 'h:1')).toEqual([]);
  });

  it("forgets a server's unreadable lines too, so that --forget is the way out of them", () => {
    const at = join(dir, 'ks');
    writeFileSync(at, `h:1 sha256:AAAA\nh:2 ${B}\nH:1\n`);
    expect(forgetServer(at, 'h:1')).toEqual([1, 3]);
    expect(readFileSync(at, 'utf8')).toBe(`h:2 ${B}\n`);
  });

  it('names the file, never its temporary copy, when it cannot be rewritten', () => {
    // A name the file system takes, whose temporary copy (name.PID.tmp) is too long for it.
    const at = join(dir, 'k'.repeat(250));
    writeFileSync(at, `h:1 ${A}\n`);
    expect(() => forgetServer(at, 'h:1')).toThrow(
      expect.objectContaining({
        code: 'RTT_ERR_KNOWN_SERVERS',
        message: `cannot rewrite the known-servers file ${at}: ENAMETOOLONG: name too long`,
      }),
    );
    expect(readdirSync(dir)).toEqual(['k'.repeat(250)]);
  });

  // Root may write anywhere: the check runs in a child without root's file privileges.
  it('says which folder must be writable to forget', () => {
    const folder = join(dir, 'locked');
    const at = join(folder, 'ks');
    mkdirSync(folder);
    writeFileSync(at, `h:1 ${A}\n`);
    chmodSync(folder, 0o500);
    const module = JSON.stringify(new URL('./known-servers.ts', import.meta.url).href);
    const script = `import { forgetServer, rememberServer } from ${module};
      const attempts = [
        () => forgetServer(${JSON.stringify(at)}, 'h:1'),
        () => rememberServer(${JSON.stringify(join(folder, 'new'))}, 'h:1', ${JSON.stringify(A)}),
      ];
      for (const attempt of attempts) {
        try { attempt(); console.log('no error'); } catch (err) { console.log(err.message); }
      }`;
    try {
      const printed = runScriptInChild(script, 20_000, { withoutFilePrivileges: true });
      expect(printed?.split('\n')).toEqual([
        `cannot rewrite the known-servers file ${at}: this user may not write in its folder ${folder} (the file is replaced by a new copy made there)`,
        `cannot write the known-servers file ${join(folder, 'new')}: this user may not write there`,
      ]);
      expect(readFileSync(at, 'utf8')).toBe(`h:1 ${A}\n`);
    } finally {
      chmodSync(folder, 0o700);
    }
  });

  it('says in words why a file cannot be read, and never reads it as empty', () => {
    // A directory where the file should be: checking, forgetting and remembering all refuse.
    expect(() => checkKnownServer(dir, 'h:1', A)).toThrow(
      expect.objectContaining({
        code: 'RTT_ERR_KNOWN_SERVERS',
        message: `cannot read the known-servers file ${dir}: it is a folder`,
      }),
    );
    expect(() => forgetServer(dir, 'h:1')).toThrow(/it is a folder/);
    expect(() => rememberServer(dir, 'h:1', A)).toThrow(/it is a folder/);
    writeFileSync(join(dir, 'plain'), '');
    expect(() => rememberServer(join(dir, 'plain', 'ks'), 'h:1', A)).toThrow(
      expect.objectContaining({
        code: 'RTT_ERR_KNOWN_SERVERS',
        message: `cannot make the folder ${join(dir, 'plain')} of the known-servers file: a file is in the way`,
      }),
    );
  });

  // In a child with a time limit: were the folder made by Node's recursive mkdir, it would spin
  // here for ever and block this thread past any test timeout.
  it.runIf(existsSync('/proc/self'))('fails at once where no folder can be made', () => {
    const module = JSON.stringify(new URL('./known-servers.ts', import.meta.url).href);
    const script = `import { rememberServer } from ${module};
      try { rememberServer('/proc/rtt-none/known_servers', 'h:1', '${A}'); } catch (err) { console.log(err.cause.code); }`;
    expect(runScriptInChild(script)).toBe('ENOENT');
  });

  it('warns as SSH does, with both fingerprints and how to forget the old one', () => {
    const text = changedWarning({ key: 'h:1', file: 'f', line: 2, expected: A, received: B });
    const lines = text.split('\n');
    expect(lines[1]).toBe(`@    WARNING: SERVER CERTIFICATE HAS CHANGED!${' '.repeat(13)}@`);
    expect(lines[1]).toHaveLength(lines[0]?.length ?? 0);
    expect(text).toContain(`Expected: ${A}   (f, line 2)`);
    expect(text).toContain(`Received: ${B}`);
    expect(text).toContain('rtt-client --forget h:1   (or remove line 2 of f)');
    expect(
      changedWarning({
        key: 'h:1',
        file: 'f',
        line: 2,
        expected: A,
        received: B,
        customFile: true,
      }),
    ).toContain('rtt-client --forget h:1 --known-servers f');
  });
});
