/// <reference types="node" />
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { caesar } from '../test/fixtures/caesar.ts';
import { GOLDEN_KEY, GOLDEN_SESSION } from '../test/fixtures/golden-session.ts';
import { concat, fromHex, toHex } from '../test/fixtures/hex.ts';
import { clientStream, serverStream, sessionDecoder } from '../test/fixtures/session.ts';
import { concatFrame, encodeError, encodeRequest, encodeResponse } from './encoder.ts';
import { encodeClientHello, encodeServerHello } from './hello.ts';
import type { DecodedMessage } from './messages.ts';

function reencode(msg: DecodedMessage): Uint8Array {
  const c = caesar(GOLDEN_KEY);
  switch (msg.type) {
    case 'client-hello':
      return encodeClientHello(msg);
    case 'server-hello':
      return encodeServerHello(msg);
    case 'request':
      return concatFrame(encodeRequest(msg.id, msg.command, msg.payload, c));
    case 'response':
      return concatFrame(encodeResponse(msg.id, msg.status, msg.payload, c));
    case 'error':
      return concatFrame(encodeError(msg.code, msg.message, c));
  }
}

describe('golden session', () => {
  const sides = [
    ['client', 'server'],
    ['server', 'client'],
  ] as const;

  it.each(sides)('what the %s sends decodes to the documented messages', (from, role) => {
    const steps = GOLDEN_SESSION.filter((s) => s.from === from);
    const s = sessionDecoder(role);
    s.decoder.push(concat(...steps.map((step) => fromHex(step.hex))));
    expect(s.messages).toEqual(steps.map((step) => step.message));
    expect(s.decoder.bufferedBytes).toBe(0);
  });

  it('every decoded message re-encodes byte for byte', () => {
    for (const step of GOLDEN_SESSION) {
      expect(toHex(reencode(step.message as unknown as DecodedMessage))).toBe(step.hex);
    }
  });

  it('is the scripted session the other tests split and fuzz', () => {
    const hexOf = (from: string) =>
      toHex(concat(...GOLDEN_SESSION.filter((s) => s.from === from).map((s) => fromHex(s.hex))));
    expect(toHex(clientStream())).toBe(hexOf('client'));
    expect(toHex(serverStream())).toBe(hexOf('server'));
  });

  it('appears in docs/PROTOCOL.md', () => {
    const doc = readFileSync(new URL('../../../docs/PROTOCOL.md', import.meta.url), 'utf8');
    for (const step of GOLDEN_SESSION) expect(doc).toContain(step.hex);
  });
});
