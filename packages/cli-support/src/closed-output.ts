/**
 * Handles a standard output whose reader has gone away (`client | head -1`): without this,
 * the next write fails with EPIPE and Node prints a stack trace. `'exit'` ends the program
 * quietly, as SIGPIPE would end a C program; `'ignore'` keeps it running (a server whose log
 * reader went away must go on serving).
 *
 * @example
 * handleClosedOutput('exit');
 */
export function handleClosedOutput(then: 'exit' | 'ignore'): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    if (then === 'exit') process.exit(0);
  });
}
