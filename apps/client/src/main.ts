#!/usr/bin/env node
/**
 * The rtt client: the seed's banner and menu; each answer with its round-trip time.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { handleClosedOutput, programArgs } from '@rtt/cli-support';
import { parseClientArgs } from './cli.ts';
import { ClientError, type Connection, openSocket } from './connection.ts';
import { FramedConnection } from './framed-connection.ts';
import { banner, CONNECTION_CLOSED, runMenu } from './menu.ts';
import { SeedConnection } from './seed-connection.ts';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as {
  version: string;
};

const print = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  let options: Awaited<ReturnType<typeof parseClientArgs>>;
  try {
    options = await parseClientArgs(programArgs(process.argv), version);
    if (options === undefined) return 0;
  } catch (err) {
    process.stderr.write(`client: ${err instanceof Error ? err.message : String(err)}\n`);
    process.stderr.write('Run with --help for the options.\n');
    return 2;
  }

  let connection: Connection;
  try {
    const socket = await openSocket(options.ip, options.port);
    connection =
      options.wire === 'seed'
        ? await SeedConnection.open(socket)
        : await FramedConnection.open(socket);
  } catch (err) {
    process.stderr.write(`🛑 ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }

  print(banner(connection));
  const input = createInterface({ input: process.stdin, terminal: false });
  // Ctrl+C ends the session as cleanly as option 4 does.
  const interrupted = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  try {
    const lost = connection.lost.then((err) => {
      throw err;
    });
    await Promise.race([runMenu(connection, input, print), interrupted, lost]);
  } catch (err) {
    const message = err instanceof ClientError ? err.message : String(err);
    process.stderr.write(`🛑 ${message}\n`);
    input.close();
    return 1;
  }
  input.close();
  await connection.close();
  print(CONNECTION_CLOSED);
  return 0;
}

handleClosedOutput('exit');
const code = await main();
process.stdout.write('', () => process.exit(code));
