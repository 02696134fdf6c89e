import { defineConfig } from 'tsup';
import { commandBuild } from '../../tsup.commands.ts';

// `load-worker` runs in the load threads (run-load.ts names it beside itself, with its own
// extension: .ts from source, .js once built), so it is an entry of its own. The baseline
// server, `compare`, `attack`, `soak` and `plot` are the benchmark report's tools: they run
// from the source.
export default defineConfig(commandBuild(['src/main.ts', 'src/load-worker.ts']));
