// What a pool thread may import: file errors only, without the command-line modules (and
// yargs) the package's index would load in every thread.
export { type FileUse, fileErrorReason } from './file-errors.ts';
