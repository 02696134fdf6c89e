export { integerIn, programArgs, UsageError } from './arguments.ts';
