import { fileURLToPath } from 'node:url';

/**
 * The one list of test projects. `vitest.config.ts` imports it (Vitest 4+ no longer reads
 * this file by itself), so adding a project here is all it takes for `pnpm test` to run it.
 */
const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Every workspace package resolves to its TypeScript source, so tests never need a build.
export const alias = [
  { find: /^@rtt\/cipher$/, replacement: src('./packages/cipher/src/index.ts') },
  { find: /^@rtt\/cipher\/assert$/, replacement: src('./packages/cipher/src/assert.ts') },
  {
    find: /^@rtt\/cipher\/error-brand$/,
    replacement: src('./packages/cipher/src/error-brand.ts'),
  },
  { find: /^@rtt\/protocol$/, replacement: src('./packages/protocol/src/index.ts') },
  { find: /^@rtt\/protocol\/node$/, replacement: src('./packages/protocol/src/node/index.ts') },
  { find: /^@rtt\/pool$/, replacement: src('./packages/pool/src/index.ts') },
  { find: /^@rtt\/cli-support$/, replacement: src('./packages/cli-support/src/index.ts') },
];

export default [
  {
    test: {
      name: 'cipher',
      root: src('./packages/cipher'),
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    },
    resolve: { alias },
  },
  {
    test: {
      name: 'protocol',
      root: src('./packages/protocol'),
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    },
    resolve: { alias },
  },
  {
    test: {
      name: 'pool',
      root: src('./packages/pool'),
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    },
    resolve: { alias },
  },
  {
    test: {
      name: 'cli-support',
      root: src('./packages/cli-support'),
      include: ['src/**/*.test.ts'],
    },
    resolve: { alias },
  },
  {
    test: { name: 'apps', root: src('./apps'), include: ['*/src/**/*.test.ts'] },
    resolve: { alias },
  },
  {
    test: {
      name: 'e2e',
      root: src('./e2e'),
      include: ['**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
    resolve: { alias },
  },
];
