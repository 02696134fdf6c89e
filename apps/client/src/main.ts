#!/usr/bin/env node
/**
 * The rtt client: the seed's banner and menu; each answer with its round-trip time.
 */
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { createInterface } from 'node:readline';
import { handleClosedOutput, programArgs } from '@rtt/cli-support';
import { connect, type RttClient } from '@rtt/protocol/node';
import { parseClientArgs } from './cli.ts';
import { banner, CONNECTION_CLOSED, runMenu } from './menu.ts';
import { errorJson, runCommand } from './one-shot.ts';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as {
  version: string;
};

const print = (line: string) => process.stdout.write(`${line}\n`);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function main(): Promise<number> {
  let options: Awaited<ReturnType<typeof parseClientArgs>>;
  try {
    options = await parseClientArgs(programArgs(process.argv), version);
    if (options === undefined) return 0;
  } catch (err) {
    process.stderr.write(`rtt-client: ${message(err)}\n`);
    process.stderr.write('Run with --help for the options.\n');
    return 2;
  }

  let client: RttClient;
  try {
    // warmUp: the first request's round-trip time must not be this process's warm-up.
    client = await connect({
      host: options.ip,
      port: options.port,
      wire: options.wire,
      timeoutMs: options.timeoutMs,
      warmUp: true,
    });
  } catch (err) {
    const hint =
      (err as { code?: string }).code === 'RTT_ERR_TIMEOUT' && options.wire === 'framed'
        ? ' (the original Python server needs --wire seed)'
        : '';
    const error = err as { code?: string; message: string };
    if (options.json) print(errorJson({ code: error.code, message: `${message(err)}${hint}` }));
    else process.stderr.write(`🛑 ${message(err)}${hint}\n`);
    return 1;
  }

  if (options.command !== undefined) {
    const interrupted = new AbortController();
    process.once('SIGINT', () => interrupted.abort());
    const code = await runCommand(client, {
      command: options.command,
      count: options.count,
      interval: options.interval,
      json: options.json,
      signal: interrupted.signal,
      print,
      printError: options.json ? print : (line) => process.stderr.write(`${line}\n`),
    });
    await client.close();
    return code;
  }

  print(banner(client.stream as net.Socket));
  const input = createInterface({ input: process.stdin, terminal: false });
  // Ctrl+C ends the session as cleanly as option 4 does.
  const interrupted = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  try {
    const lost = client.lost.then((err) => {
      throw err;
    });
    await Promise.race([runMenu(client, input, print), interrupted, lost]);
  } catch (err) {
    process.stderr.write(`🛑 ${message(err)}\n`);
    input.close();
    return 1;
  }
  input.close();
  await client.close();
  print(CONNECTION_CLOSED);
  return 0;
}

handleClosedOutput('exit');
const code = await main();
process.stdout.write('', () => process.exit(code));
