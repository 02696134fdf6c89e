export { integerIn, programArgs, UsageError } from './arguments.ts';
export { handleClosedOutput } from './closed-output.ts';
export { answeredHelpOrVersion, type CommandLineOptions, commandLine } from './command-line.ts';
