import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { alias } from './vitest.workspace.ts';

/**
 * `pnpm test:haproxy`: the tests with real servers behind HAProxy (e2e-haproxy/). They need
 * HAProxy, so they are kept out of `pnpm test` (vitest.config.ts). When it is missing,
 * e2e-haproxy/preflight.ts fails the run with one message (the `test:haproxy` script runs it
 * first, and it is the global setup here for a bare `vitest run --config`). `.ci/run` installs
 * HAProxy and runs them after `pnpm test:capture`.
 */
export default defineConfig({
  // Vite's cache where `pnpm test` keeps it, not in e2e-haproxy/node_modules.
  cacheDir: fileURLToPath(new URL('./node_modules/.vite', import.meta.url)),
  resolve: { alias },
  test: {
    name: 'haproxy',
    root: fileURLToPath(new URL('./e2e-haproxy', import.meta.url)),
    include: ['**/*.test.ts'],
    globalSetup: ['./preflight.ts'],
    // Three servers and HAProxy per test: one file at a time.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
