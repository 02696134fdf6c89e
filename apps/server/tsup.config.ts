import { defineConfig } from 'tsup';
import { commandBuild } from '../../tsup.commands.ts';

// `pool-session` is the module the pool's threads load (main.ts names it beside itself, with
// its own extension: .ts from source, .js once built), so it is an entry of its own.
export default defineConfig(commandBuild(['src/main.ts', 'src/pool-session.ts']));
