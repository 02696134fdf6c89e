import type { Options } from 'tsup';

/**
 * The build every rtt command shares (`rtt-server`, `rtt-client`, `rtt-bench`): ESM for the
 * user's Node.js 20 or later, into `dist/`, with the private `@rtt/cli-support` bundled in.
 * Everything in an app's `dependencies` (the @rtt libraries, yargs, ...) stays an import,
 * installed with the app. `entry` lists the command and any module its threads load.
 *
 * @example
 * export default defineConfig(commandBuild(['src/main.ts', 'src/pool-session.ts']));
 */
export function commandBuild(entry: string[]): Options {
  return {
    entry,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    clean: true,
    sourcemap: true,
    noExternal: ['@rtt/cli-support'],
  };
}
