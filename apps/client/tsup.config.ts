import { defineConfig } from 'tsup';
import { commandBuild } from '../../tsup.commands.ts';

export default defineConfig(commandBuild(['src/main.ts']));
