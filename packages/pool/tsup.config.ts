import { defineConfig } from 'tsup';

export default defineConfig({
  // The worker entry is loaded by piscina from beside the pool module, so it is built as a
  // file of its own in both formats.
  entry: ['src/index.ts', 'src/worker.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  target: 'node22',
  shims: true,
  splitting: false,
});
