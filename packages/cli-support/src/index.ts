export { integerIn, programArgs, UsageError } from './arguments.ts';
export { answeredHelpOrVersion, type CommandLineOptions, commandLine } from './command-line.ts';
