import { Status } from '@rtt/protocol';
import type { Reply } from '@rtt/protocol/node';
import { describe, expect, it } from 'vitest';
import {
  banner,
  CONNECTION_CLOSED,
  INVALID_OPTION,
  MENU,
  type MenuConnection,
  replyText,
  responseLine,
  runMenu,
} from './menu.ts';

const socket = {
  localAddress: '127.0.0.1',
  localPort: 43570,
  remoteAddress: '127.0.0.1',
  remotePort: 7777,
};

function fakeConnection(replies: Record<string, string>) {
  const sent: string[] = [];
  const connection: MenuConnection = {
    async request(command): Promise<Reply> {
      sent.push(command);
      return { status: Status.OK, ok: true, text: replies[command] ?? '?', rttMs: 0.22844 };
    },
  };
  return { connection, sent };
}

async function* lines(...input: string[]) {
  yield* input;
}

describe('the menu', () => {
  it("prints the seed's banner with Sum = server port + local port", () => {
    expect(banner(socket, 'fedora')).toBe(
      'User fedora with 127.0.0.1 address on port 43570 connected to the server with 127.0.0.1 address on port 7777. Sum: 51347',
    );
  });

  it('formats an answer with its RTT to four decimals', () => {
    expect(responseLine('6°C', 0.22844)).toBe('💡 Response: 6°C with RTT 0.2284 ms');
  });

  it('names a framed error status; a seed-wire ERROR text stands as it is', () => {
    const failed = { status: Status.INTERNAL_ERROR, ok: false, rttMs: 0.1 };
    expect(replyText({ ...failed, text: 'internal error' })).toBe('INTERNAL_ERROR: internal error');
    expect(
      replyText({ ...failed, status: Status.UNKNOWN_COMMAND, text: 'ERROR unknown command "X"' }),
    ).toBe('ERROR unknown command "X"');
  });

  it('sends TIME, DATE, TEMP for 1, 2, 3, rejects anything else, and stops at 4', async () => {
    const { connection, sent } = fakeConnection({
      TIME: '00:02:19.198109',
      DATE: '2024-10-23',
      TEMP: '6°C',
    });
    const out: string[] = [];
    await runMenu(connection, lines('3', '1', ' 2 ', '9', '', '4', '1'), (line) => out.push(line));
    expect(sent).toEqual(['TEMP', 'TIME', 'DATE']);
    expect(out).toEqual([
      MENU,
      '💡 Response: 6°C with RTT 0.2284 ms',
      MENU,
      '💡 Response: 00:02:19.198109 with RTT 0.2284 ms',
      MENU,
      '💡 Response: 2024-10-23 with RTT 0.2284 ms',
      MENU,
      INVALID_OPTION,
      MENU,
      INVALID_OPTION,
      MENU,
    ]);
    expect(CONNECTION_CLOSED).toBe('⚠️  Connection closed');
  });
});
