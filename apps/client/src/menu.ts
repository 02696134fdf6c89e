import { hostname } from 'node:os';
import { statusName } from '@rtt/protocol';
import type { Reply } from '@rtt/protocol/node';

/** What the menu needs of a connection: the seed's three requests. */
export interface MenuConnection {
  request(command: 'TIME' | 'DATE' | 'TEMP'): Promise<Reply>;
}

/** The two ends of a TCP connection, as the banner shows them. */
export interface Endpoints {
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}

/** The seed's menu, printed before every choice. */
export const MENU = [
  'Select one of the option below:',
  '1. Request time from the server.',
  '2. Request date from the server.',
  '3. Request temperature from the server.',
  '4. Exit',
].join('\n');

export const INVALID_OPTION = '🛑 The option is not a valid one, please try again.';
export const CONNECTION_CLOSED = '⚠️  Connection closed';

const CHOICES = { '1': 'TIME', '2': 'DATE', '3': 'TEMP' } as const;

/**
 * The seed's first line, with `Sum:` = server port + local port.
 *
 * @example
 * banner(socket); // 'User fedora with 127.0.0.1 address on port 43570 connected to ... Sum: 51347'
 */
export function banner(socket: Endpoints, host: string = hostname()): string {
  const { localAddress, localPort = 0, remoteAddress, remotePort = 0 } = socket;
  return `User ${host} with ${localAddress} address on port ${localPort} connected to the server with ${remoteAddress} address on port ${remotePort}. Sum: ${remotePort + localPort}`;
}

/**
 * Formats an answer as the seed does.
 *
 * @example
 * responseLine('6°C', 0.2284); // '💡 Response: 6°C with RTT 0.2284 ms'
 */
export function responseLine(text: string, rttMs: number): string {
  return `💡 Response: ${text} with RTT ${rttMs.toFixed(4)} ms`;
}

/**
 * An answer's text as the user reads it: a framed error status is named (the seed wire's
 * errors already read `ERROR ...`).
 *
 * @example
 * replyText({ status: 4, ok: false, text: 'internal error', rttMs: 0.3 }); // 'INTERNAL_ERROR: internal error'
 */
export function replyText(reply: Reply): string {
  if (reply.ok || reply.text.startsWith('ERROR')) return reply.text;
  return `${statusName(reply.status) ?? `status ${reply.status}`}: ${reply.text}`;
}

/**
 * Runs the menu over lines of input until `4`, the end of input, or a lost connection.
 * Returns normally on `4` and end of input; rejects when the connection fails.
 */
export async function runMenu(
  connection: MenuConnection,
  lines: AsyncIterable<string>,
  print: (line: string) => void,
): Promise<void> {
  print(MENU);
  for await (const line of lines) {
    const choice = line.trim();
    if (choice === '4') return;
    const command = CHOICES[choice as keyof typeof CHOICES];
    if (command === undefined) {
      print(INVALID_OPTION);
    } else {
      const reply = await connection.request(command);
      print(responseLine(replyText(reply), reply.rttMs));
    }
    print(MENU);
  }
}
