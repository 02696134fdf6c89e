import { defineConfig } from 'tsup';

export default defineConfig({
  // `pool-session` is the module the pool's threads load (main.ts names it beside itself, with
  // its own extension: .ts from source, .js once built), so it is an entry of its own.
  entry: ['src/main.ts', 'src/pool-session.ts'],
  format: ['esm'],
  platform: 'node',
  // The installed command runs on the user's Node.js, 20 or later.
  target: 'node20',
  clean: true,
  sourcemap: true,
  // @rtt/cli-support is private: its source is bundled in. Everything in `dependencies`
  // (the @rtt libraries, winston, yargs) stays an import, installed with the app.
  noExternal: ['@rtt/cli-support'],
});
