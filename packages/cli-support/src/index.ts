export { integerIn, programArgs } from './arguments.ts';
export { baseDir } from './base-dirs.ts';
export { handleClosedOutput } from './closed-output.ts';
export { answeredHelpOrVersion, type CommandLineOptions, commandLine } from './command-line.ts';
export { makeDirectory } from './directories.ts';
export { CliError, UsageError } from './errors.ts';
export { type FileUse, fileErrorReason } from './file-errors.ts';
