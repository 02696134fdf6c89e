import { spawnSync } from 'node:child_process';

/**
 * For tests of code that might block its thread for ever (a loop in synchronous code, which no
 * test timeout can interrupt): runs an ES module `script` in a child Node.js with a time limit,
 * with the workspace's source condition, and returns what it printed, trimmed, or `undefined`
 * when the limit had to kill it. `as` runs it as another user (the caller must be root): a
 * test of a permission error cannot fail as root, who may write anywhere. Imported from `@rtt/cli-support/testing`, never by an app.
 *
 * @example
 * expect(runScriptInChild(`import { f } from ${JSON.stringify(url)}; console.log(f());`)).toBe('ok');
 */
export function runScriptInChild(
  script: string,
  timeoutMs = 10_000,
  as: { uid: number; gid: number } | undefined = undefined,
): string | undefined {
  const child = spawnSync(
    process.execPath,
    ['--conditions=rtt-source', '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: timeoutMs, ...as },
  );
  return child.signal === null ? child.stdout.trim() : undefined;
}
