import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { alias } from './vitest.workspace.ts';

/**
 * `pnpm test:capture`: the tests that capture real traffic with tshark (e2e-capture/). They
 * need tshark and permission to capture on the loopback interface, so they are kept out of
 * `pnpm test` (vitest.config.ts). When either is missing, e2e-capture/preflight.ts fails the
 * run with one message (the `test:capture` script runs it first, and it is the global setup
 * here for a bare `vitest run --config`). `.ci/run` installs tshark and runs them after
 * `pnpm test`.
 */
export default defineConfig({
  // Vite's cache where `pnpm test` keeps it, not in e2e-capture/node_modules.
  cacheDir: fileURLToPath(new URL('./node_modules/.vite', import.meta.url)),
  resolve: { alias },
  test: {
    name: 'capture',
    root: fileURLToPath(new URL('./e2e-capture', import.meta.url)),
    include: ['**/*.test.ts'],
    globalSetup: ['./preflight.ts'],
    // One capture at a time: each filters on its own port, but tshark processes are heavy.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
