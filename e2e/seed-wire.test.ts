import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { caesarDecrypt, caesarEncrypt, deriveSharedKey, SEED_GROUP } from '@rtt/cipher';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, Proc, runClient, startServer } from './harness.ts';

afterEach(killAll);

const SEED_CLIENT = fileURLToPath(new URL('./fixtures/seed_client.py', import.meta.url));
const SEED_SERVER = fileURLToPath(new URL('./fixtures/seed_server.py', import.meta.url));
const RTT = 'with RTT \\d+\\.\\d{4} ms';
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (value: string) => new TextEncoder().encode(value);

/** A seed-wire peer driven by hand, to send exactly the bytes a test needs. */
async function seedPeer(port: number, privateKey: number) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  const received: Buffer[] = [];
  let notify: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    received.push(chunk);
    notify?.();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  /** Waits until at least `n` bytes have arrived since the last take, and takes them all. */
  const take = async (n = 1): Promise<Buffer> => {
    while (Buffer.concat(received).length < n) {
      await new Promise<void>((resolve) => {
        notify = resolve;
      });
    }
    return Buffer.concat(received.splice(0));
  };
  const publicKey = Number(11n ** BigInt(privateKey) % 257n);
  return { socket, take, closed, publicKey, privateKey };
}

async function exchangeKeys(port: number, privateKey: number, split = false) {
  const peer = await seedPeer(port, privateKey);
  const digits = String(peer.publicKey);
  if (split && digits.length > 1) {
    peer.socket.write(digits.slice(0, 1));
    await new Promise((resolve) => setTimeout(resolve, 5));
    peer.socket.write(digits.slice(1));
  } else {
    peer.socket.write(digits);
  }
  const serverKey = Number(text(await peer.take()));
  const shared = deriveSharedKey(privateKey, serverKey, SEED_GROUP, { allowDegenerate: true });
  return { ...peer, key: shared % 256 };
}

describe('the original Python client against our server', () => {
  it('gets TIME, DATE and TEMP, and our server logs it like any client', async () => {
    const { proc: server, port } = await startServer();
    const python = new Proc('python3', [SEED_CLIENT, '-ip', '127.0.0.1', '-p', String(port)], {
      stdin: '1\n2\n3\n4\n',
    });
    const { code } = await python.exited;
    expect(python.stderr).toBe('');
    expect(code).toBe(0);
    const responses = python.lines.filter((line) => line.startsWith('💡 Response:'));
    expect(responses).toHaveLength(3);
    expect(responses[0]).toMatch(new RegExp(`^💡 Response: \\d{2}:\\d{2}:\\d{2}\\.\\d{6} ${RTT}$`));
    expect(responses[1]).toMatch(new RegExp(`^💡 Response: \\d{4}-\\d{2}-\\d{2} ${RTT}$`));
    expect(responses[2]).toMatch(
      new RegExp(`^💡 Response: -?\\d+(\\.\\d)?°C( \\(simulated\\))? ${RTT}$`),
    );
    await server.waitFor(/Connection closed with the client with 127\.0\.0\.1 on port \d+/);
  });
});

describe('our client with --wire seed against the original Python server', () => {
  it('gets TIME, DATE and TEMP with the same banner, menu and lines', async () => {
    const python = new Proc('python3', [SEED_SERVER, '-ip', '127.0.0.1', '-p', '0']);
    const port = Number((await python.waitFor(/Listening on 127\.0\.0\.1 port (\d+)/))[1]);
    const { proc, code } = await runClient(
      ['-ip', '127.0.0.1', '-p', String(port), '--wire', 'seed'],
      '1\n2\n3\n7\n4\n',
    );
    expect(proc.stderr).toBe('');
    expect(code).toBe(0);
    expect(proc.lines[0]).toMatch(
      new RegExp(
        `connected to the server with 127\\.0\\.0\\.1 address on port ${port}\\. Sum: \\d+$`,
      ),
    );
    const responses = proc.lines.filter((line) => line.startsWith('💡 Response:'));
    expect(responses[0]).toMatch(new RegExp(`^💡 Response: \\d{2}:\\d{2}:\\d{2}\\.\\d{6} ${RTT}$`));
    expect(responses[1]).toMatch(new RegExp(`^💡 Response: \\d{4}-\\d{2}-\\d{2} ${RTT}$`));
    expect(responses[2]).toMatch(new RegExp(`^💡 Response: -?\\d+°C ${RTT}$`));
    expect(proc.lines).toContain('🛑 The option is not a valid one, please try again.');
    expect(proc.lines.at(-1)).toBe('⚠️  Connection closed');
    await python.waitFor(/Connection closed with the client/);
  });
});

describe('our server on the seed wire', () => {
  it('serves our own client with --wire seed: the same answers as on the framed protocol', async () => {
    const { proc: server, port } = await startServer();
    const { proc, code } = await runClient(['-p', String(port), '--wire', 'seed'], '1\n2\n3\n4\n');
    expect(code).toBe(0);
    const responses = proc.lines.filter((line) => line.startsWith('💡 Response:'));
    expect(responses[0]).toMatch(new RegExp(`^💡 Response: \\d{2}:\\d{2}:\\d{2}\\.\\d{6} ${RTT}$`));
    expect(responses[1]).toMatch(new RegExp(`^💡 Response: \\d{4}-\\d{2}-\\d{2} ${RTT}$`));
    expect(responses[2]).toMatch(
      new RegExp(`^💡 Response: -?\\d+(\\.\\d)?°C( \\(simulated\\))? ${RTT}$`),
    );
    await server.waitFor(/Connection closed with the client/);
  });

  it('waits for key digits split over several segments', async () => {
    const { port } = await startServer();
    // Private key 5 gives public key 11^5 mod 257 = 215: three digits, sent as "2" then "15".
    const peer = await exchangeKeys(port, 5, true);
    peer.socket.write(caesarEncrypt(bytes('DATE'), peer.key));
    expect(text(caesarDecrypt(await peer.take(10), peer.key))).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    peer.socket.destroy();
  });

  it('answers every command that arrives joined in one segment, trimmed and case-blind', async () => {
    const { port } = await startServer();
    const peer = await exchangeKeys(port, 7);
    peer.socket.write(caesarEncrypt(bytes(' timeDATE \n'), peer.key));
    const answer = text(caesarDecrypt(await peer.take(25), peer.key));
    expect(answer).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{6}\d{4}-\d{2}-\d{2}$/);
    peer.socket.destroy();
  });

  it('waits for the rest of a command split across segments, and answers it once', async () => {
    const { port } = await startServer();
    const peer = await exchangeKeys(port, 11);
    peer.socket.write(caesarEncrypt(bytes('TI'), peer.key));
    await new Promise((resolve) => setTimeout(resolve, 5));
    peer.socket.write(caesarEncrypt(bytes('ME'), peer.key));
    expect(text(caesarDecrypt(await peer.take(15), peer.key))).toMatch(
      /^\d{2}:\d{2}:\d{2}\.\d{6}$/,
    );
    // Nothing more comes: the two halves were not also answered as unknown commands.
    peer.socket.write(caesarEncrypt(bytes('DATE'), peer.key));
    expect(text(caesarDecrypt(await peer.take(10), peer.key))).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    peer.socket.destroy();
  });

  it('answers an unknown command with an error text instead of leaving the client hanging', async () => {
    const { port } = await startServer();
    const peer = await exchangeKeys(port, 9);
    peer.socket.write(caesarEncrypt(bytes('WHAT'), peer.key));
    expect(text(caesarDecrypt(await peer.take(), peer.key))).toMatch(
      /^ERROR unknown command "WHAT"$/,
    );
    peer.socket.destroy();
  });

  it.each([
    ['not a number', '12a'],
    ['out of range', '300'],
    ['not in the group', '183'],
    ['absurdly long', '0000000000000000000001'],
  ])('closes a connection whose key is %s, with a warning', async (_name, key) => {
    const { proc: server, port } = await startServer();
    const peer = await seedPeer(port, 1);
    peer.socket.write(key);
    await peer.closed;
    await server.waitFor(/Closing 127\.0\.0\.1 port \d+: .*(key|digit)/);
    const { code } = await runClient(['-p', String(port), '--wire', 'seed'], '2\n4\n');
    expect(code).toBe(0);
  });

  it('serves a session whose shared key is 256 = 0 mod 256 in clear, and warns', async () => {
    const { proc: server, port } = await startServer();
    // Our private key 32 makes public key 256 (= -1 mod 257): the shared secret is 256
    // whenever the server's private key is odd, so a few tries always find one.
    for (let attempt = 0; attempt < 40; attempt += 1) {
      const peer = await exchangeKeys(port, 32);
      if (peer.key !== 0) {
        peer.socket.destroy();
        continue;
      }
      peer.socket.write('TIME');
      expect(text(await peer.take(15))).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{6}$/);
      peer.socket.destroy();
      await server.waitFor(/shared key 256 = 0 mod 256: it travels in clear/);
      return;
    }
    throw new Error('no session with shared key 256 in 40 tries');
  });
});
