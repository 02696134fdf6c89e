import { defineConfig } from 'tsup';

export default defineConfig({
  // `assert` is the `@rtt/cipher/assert` subpath: the argument checks @rtt/protocol shares.
  // `error-brand` is `@rtt/cipher/error-brand`: the instanceof brands @rtt/protocol shares.
  entry: { index: 'src/index.ts', assert: 'src/assert.ts', 'error-brand': 'src/error-brand.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
});
