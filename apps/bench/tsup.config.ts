import { defineConfig } from 'tsup';

export default defineConfig({
  // `load-worker` runs in the load threads (run-load.ts names it beside itself, with its own
  // extension: .ts from source, .js once built), so it is an entry of its own. The baseline
  // server, `compare` and `plot` are the benchmark report's tools: they run from the source.
  entry: ['src/main.ts', 'src/load-worker.ts'],
  format: ['esm'],
  platform: 'node',
  // The installed command runs on the user's Node.js, 20 or later.
  target: 'node20',
  clean: true,
  sourcemap: true,
  // @rtt/cli-support is private: its source is bundled in. Everything in `dependencies`
  // (the @rtt libraries, hdr-histogram-js, yargs) stays an import, installed with the app.
  noExternal: ['@rtt/cli-support'],
});
