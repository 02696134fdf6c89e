import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'node/index': 'src/node/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // Both entries share one copy of the core (in ESM and in CJS), so an error class or
  // FrameDecoder from '@rtt/protocol/node' is the same one '@rtt/protocol' exports.
  splitting: true,
});
