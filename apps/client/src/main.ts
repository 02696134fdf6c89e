#!/usr/bin/env node
/**
 * The rtt client: the seed's banner and menu; each answer with its round-trip time.
 */
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { createInterface } from 'node:readline';
import { handleClosedOutput, programArgs } from '@rtt/cli-support';
import { type ConnectTlsOptions, connect, type RttClient } from '@rtt/protocol/node';
import { parseClientArgs } from './cli.ts';
import { explainConnectFailure } from './connect-failure.ts';
import { CertificateChangedError } from './errors.ts';
import { changedWarning, forgetServer } from './known-servers.ts';
import { banner, CONNECTION_CLOSED, runMenu } from './menu.ts';
import { errorJson, runCommand } from './one-shot.ts';
import { clientTlsOptions } from './tls.ts';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as {
  version: string;
};

const print = (line: string) => process.stdout.write(`${line}\n`);
const printError = (line: string) => process.stderr.write(`${line}\n`);
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

  const fail = (err: unknown, hint = '') => {
    const code = (err as { code?: string }).code;
    if (options.json) print(errorJson({ code, message: `${message(err)}${hint}` }));
    else printError(`🛑 ${message(err)}${hint}`);
    return 1;
  };

  if (options.forget !== undefined) {
    let removed: number[];
    try {
      removed = forgetServer(options.knownServers, options.forget);
    } catch (err) {
      return fail(err);
    }
    // As `ssh-keygen -R`: a server that was not there is no failure, the end state is the same.
    print(
      removed.length === 0
        ? `${options.forget} is not in ${options.knownServers}`
        : `Forgot ${options.forget}: removed line${removed.length > 1 ? 's' : ''} ${removed.join(', ')} of ${options.knownServers}`,
    );
    return 0;
  }

  let tls: ConnectTlsOptions | undefined;
  let closeTls = () => {};
  if (options.tls) {
    try {
      ({ tls, close: closeTls } = clientTlsOptions(options, { notice: printError }));
    } catch (err) {
      return fail(err);
    }
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
      ...(tls === undefined ? {} : { tls }),
    });
  } catch (err) {
    closeTls();
    if (err instanceof CertificateChangedError) {
      // The warning goes to stderr even with --json: a person must see it, a script gets the code.
      printError(changedWarning({ ...err, customFile: options.knownServersGiven }));
      if (options.json) print(errorJson(err));
      return 1;
    }
    const { error, hint } = explainConnectFailure(err, options);
    return fail(error, hint);
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
      printError: options.json ? print : printError,
    });
    await client.close();
    closeTls();
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
    closeTls();
    return 1;
  }
  input.close();
  await client.close();
  closeTls();
  print(CONNECTION_CLOSED);
  return 0;
}

handleClosedOutput('exit');
const code = await main();
process.stdout.write('', () => process.exit(code));
