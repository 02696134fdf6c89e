/**
 * `pnpm check:cycles`: no import cycle in the sources of the packages and apps, within one
 * package or across packages (workspace imports such as `@rtt/cipher` resolve to `src/` through
 * the `rtt-source` condition, as the tests and the apps do).
 *
 * Type-only imports count too. `import { type X } from './x.ts'` is not erased under our
 * `verbatimModuleSyntax`, nor by Node's type stripping: it stays `import {} from './x.ts'`, a
 * real load at run time, yet dependency-cruiser files it as "type-only". And a cycle of
 * `import type` alone still ties two modules together; moving the type to the module that owns
 * it breaks it at no cost.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import cycle: modules that load each other run in an order that depends on who was imported first.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    includeOnly: '^(packages|apps)/[^/]+/src/',
    // Tests import the sources and are imported by nothing: they cannot close a cycle.
    exclude: { path: '\\.test\\.ts$' },
    doNotFollow: { path: 'node_modules' },
    // Read the TypeScript itself, so that type-only imports are seen (see above).
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['rtt-source', 'import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
