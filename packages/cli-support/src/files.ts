// What a pool thread may import: files only, without the command-line modules (and yargs)
// the package's index would load in every thread.
export { openAppending } from './append.ts';
export { type FileUse, fileErrorReason } from './file-errors.ts';
