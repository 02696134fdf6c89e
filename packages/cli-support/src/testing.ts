import { spawnSync } from 'node:child_process';

/**
 * For tests of code that might block its thread for ever (a loop in synchronous code, which no
 * test timeout can interrupt): runs an ES module `script` in a child Node.js with a time limit,
 * with the workspace's source condition, and returns what it printed, trimmed, or `undefined`
 * when the limit had to kill it. Imported from `@rtt/cli-support/testing`, never by an app.
 *
 * With `withoutFilePrivileges`, a child of root runs without the capabilities that let root
 * read and write whatever the permissions say (through util-linux's `setpriv`): a test of a
 * permission error cannot fail as root otherwise. Any other user runs the script as it is.
 *
 * @example
 * expect(runScriptInChild(`import { f } from ${JSON.stringify(url)}; console.log(f());`)).toBe('ok');
 */
export function runScriptInChild(
  script: string,
  timeoutMs = 10_000,
  options: { withoutFilePrivileges?: boolean } = {},
): string | undefined {
  const node = [process.execPath, '--conditions=rtt-source', '--input-type=module', '-e', script];
  const command =
    options.withoutFilePrivileges === true && process.getuid?.() === 0
      ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search,-fowner', '--', ...node]
      : node;
  const child = spawnSync(command[0] as string, command.slice(1), {
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (child.error !== undefined) throw child.error;
  return child.signal === null ? child.stdout.trim() : undefined;
}
