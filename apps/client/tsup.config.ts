import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  platform: 'node',
  // The installed command runs on the user's Node.js, 20 or later.
  target: 'node20',
  clean: true,
  sourcemap: true,
  // @rtt/cli-support is private: its source is bundled in. Everything in `dependencies`
  // (@rtt/protocol, @rtt/cipher, yargs) stays an import, installed with the app.
  noExternal: ['@rtt/cli-support'],
});
