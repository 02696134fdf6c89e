import { once } from 'node:events';
import net, { type AddressInfo, BlockList } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ServerAppError } from './errors.ts';
import {
  PROXY_V1_MAX_BYTES,
  type ProxyAddress,
  type ProxyHeaderResult,
  parseProxyHeader,
  proxyAllowed,
  readProxyHeader,
} from './proxy-protocol.ts';

// ---- building headers -------------------------------------------------------------------

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const text = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

interface V2Spec {
  command?: number;
  version?: number;
  familyProtocol: number;
  address?: Uint8Array;
  tlvs?: { type: number; value: Uint8Array }[];
  /** Overrides the length field. */
  length?: number;
}

function v2(spec: V2Spec): Uint8Array {
  const tlvs = (spec.tlvs ?? []).map(({ type, value }) =>
    concat(Uint8Array.of(type, value.length >> 8, value.length & 0xff), value),
  );
  const body = concat(spec.address ?? new Uint8Array(0), ...tlvs);
  const length = spec.length ?? body.length;
  return concat(
    Uint8Array.of(
      ...SIGNATURE,
      ((spec.version ?? 2) << 4) | (spec.command ?? 1),
      spec.familyProtocol,
      length >> 8,
      length & 0xff,
    ),
    body,
  );
}

function u16(n: number): number[] {
  return [n >> 8, n & 0xff];
}

function v2Inet(src: number[], dst: number[], sport: number, dport: number): Uint8Array {
  return Uint8Array.of(...src, ...dst, ...u16(sport), ...u16(dport));
}

/** Whether two addresses of one family are the same address, by node's numeric compare. */
function sameAddress(a: string, b: string, family: 'IPv4' | 'IPv6'): boolean {
  const list = new BlockList();
  const type = family === 'IPv4' ? 'ipv4' : 'ipv6';
  list.addAddress(a, type);
  return list.check(b, type);
}

function complete(result: ProxyHeaderResult) {
  if (result.state !== 'complete') {
    throw new Error(`expected a complete header, got ${JSON.stringify(result)}`);
  }
  return result;
}

function reasonOf(result: ProxyHeaderResult): string {
  if (result.state !== 'invalid') throw new Error(`expected invalid, got ${result.state}`);
  return result.reason;
}

// ---- v1 ---------------------------------------------------------------------------------

describe('parseProxyHeader v1', () => {
  it('reads TCP4 and gives the bytes after the header as rest', () => {
    const result = complete(
      parseProxyHeader(text('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /')),
    );
    expect(result).toMatchObject({
      version: 1,
      command: 'proxy',
      headerLength: 47,
      source: { address: '192.168.0.1', port: 56324, family: 'IPv4' },
      destination: { address: '192.168.0.11', port: 443, family: 'IPv4' },
    });
    expect(Buffer.from(result.rest).toString()).toBe('GET /');
  });

  it('reads TCP6 and gives addresses in canonical form', () => {
    const result = complete(
      parseProxyHeader(text('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::ffff:10.0.0.1 0 65535\r\n')),
    );
    expect(result.source).toEqual({ address: '2001:db8::1', port: 0, family: 'IPv6' });
    expect(result.destination).toEqual({ address: '::ffff:10.0.0.1', port: 65535, family: 'IPv6' });
    expect(result.rest.length).toBe(0);
  });

  it('reads UNKNOWN, with or without the rest of the line, as no address', () => {
    for (const line of [
      'PROXY UNKNOWN\r\n',
      'PROXY UNKNOWN ffff:f::f ffff:f::f 65535 65535\r\n',
      'PROXY UNKNOWN anything at all, even ~!@#\r\n',
    ]) {
      const result = complete(parseProxyHeader(text(`${line}RTT`)));
      expect(result.headerLength).toBe(line.length);
      expect(result.source).toBeUndefined();
      expect(result.destination).toBeUndefined();
      expect(result.command).toBe('proxy');
      expect(Array.from(result.rest)).toEqual([0x52, 0x54, 0x54]);
    }
  });

  it('accepts the longest line (107 bytes) and refuses one byte more', () => {
    const ff = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
    const longest = `PROXY UNKNOWN ${ff} ${ff} 65535 65535\r\n`;
    expect(longest.length).toBe(PROXY_V1_MAX_BYTES);
    expect(complete(parseProxyHeader(text(longest))).headerLength).toBe(107);
    const tooLong = `PROXY UNKNOWN ${ff} ${ff} 65535 655350\r\n`;
    expect(reasonOf(parseProxyHeader(text(tooLong)))).toBe('PROXY v1 header longer than 107 bytes');
    // Without a CR at all, 107 bytes are enough to tell.
    expect(reasonOf(parseProxyHeader(text(`PROXY UNKNOWN ${'x'.repeat(93)}`)))).toBe(
      'PROXY v1 header longer than 107 bytes',
    );
    expect(parseProxyHeader(text(`PROXY UNKNOWN ${'x'.repeat(92)}`)).state).toBe('incomplete');
  });

  it.each([
    ['PROXY TCP4 1.2.3.4 5.6.7.8 65536 1\r\n', 'a bad source port'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 080\r\n', 'a bad destination port'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 -1 80\r\n', 'a bad source port'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n', 'a bad destination port'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 0x50\r\n', 'a bad destination port'],
    ['PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n', 'a bad source address'],
    ['PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n', 'a bad source address'],
    ['PROXY TCP4 1.2.3.4 ::1 1 2\r\n', 'a bad destination address'],
    ['PROXY TCP6 1.2.3.4 ::1 1 2\r\n', 'a bad source address'],
    ['PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', 'a bad source address'],
    ['PROXY TCP6 hello ::1 1 2\r\n', 'a bad source address'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n', 'too many fields'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', 'too few fields'],
    ['PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n', 'a bad destination address'],
    ['PROXY TCP4\r\n', 'too few fields'],
    ['PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n', 'an unknown protocol'],
    ['PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n', 'an unknown protocol'],
    ['PROXY UNKNOWNX\r\n', 'an unknown protocol'],
    ['PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n', 'an unknown protocol'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX', 'a CR without an LF'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n', 'a byte that is not text'],
    ['PROXY UNKNOWN caf\u00e9\r\n', 'a byte that is not text'],
    ['PROXY UNKNOWN \u0000\r\n', 'a byte that is not text'],
  ])('refuses %j (%s)', (line, why) => {
    expect(reasonOf(parseProxyHeader(text(line)))).toBe(`PROXY v1 header has ${why}`);
  });

  it('refuses a bad line at its first wrong byte, before the CRLF', () => {
    expect(parseProxyHeader(text('PROXY TCP5')).state).toBe('invalid');
    expect(parseProxyHeader(text('PROXY TCP4 1.2.3.4x')).state).toBe('invalid');
    expect(parseProxyHeader(text('PROXY TCP4 1.2.3.4 5.6.7.8 0')).state).toBe('incomplete');
    expect(parseProxyHeader(text('PROXY TCP4 1.2.3.4 5.6.7.8 01')).state).toBe('invalid');
    expect(parseProxyHeader(text('PROXY TCP4 1.2.3.4 5.6.7.8 655')).state).toBe('incomplete');
    expect(parseProxyHeader(text('PROXY TCP4 1.2.3.4 5.6.7.8 65536')).state).toBe('invalid');
    expect(parseProxyHeader(text('PROXY TCP4 1.2.3.4 5.6.7.8 1 2 ')).state).toBe('invalid');
    expect(parseProxyHeader(text('PROXY TCP4 1234567890123456')).state).toBe('invalid');
    // A complete field is judged whole once a space follows it.
    expect(parseProxyHeader(text('PROXY TCP4 1.2.3')).state).toBe('incomplete');
    expect(parseProxyHeader(text('PROXY TCP4 1.2.3 ')).state).toBe('invalid');
    // At the CR the line is judged before the LF arrives.
    expect(parseProxyHeader(text('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r')).state).toBe('incomplete');
    expect(parseProxyHeader(text('PROXY TCP4 1.2.3.4 5.6.7.8 1\r')).state).toBe('invalid');
  });

  it('is incomplete at every byte before the end, fed one byte at a time', () => {
    const line = text('PROXY TCP6 2001:db8::7 2001:db8::1 51000 7000\r\n');
    for (let n = 0; n < line.length; n++) {
      expect(parseProxyHeader(line.subarray(0, n)).state, `after ${n} bytes`).toBe('incomplete');
    }
    expect(parseProxyHeader(line).state).toBe('complete');
  });
});

// ---- v2 ---------------------------------------------------------------------------------

describe('parseProxyHeader v2', () => {
  it('reads PROXY over TCP/IPv4, with the payload after it as rest', () => {
    const header = v2({
      familyProtocol: 0x11,
      address: v2Inet([203, 0, 113, 7], [10, 0, 0, 1], 51000, 7000),
    });
    expect(header.length).toBe(28);
    const result = complete(parseProxyHeader(concat(header, text('RTT\x01'))));
    expect(result).toMatchObject({
      version: 2,
      command: 'proxy',
      headerLength: 28,
      source: { address: '203.0.113.7', port: 51000, family: 'IPv4' },
      destination: { address: '10.0.0.1', port: 7000, family: 'IPv4' },
    });
    expect(Buffer.from(result.rest).toString('latin1')).toBe('RTT\x01');
  });

  it('reads PROXY over TCP/IPv6', () => {
    const src = [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 0x07];
    const dst = [...Array(10).fill(0), 0xff, 0xff, 10, 0, 0, 1];
    const result = complete(
      parseProxyHeader(v2({ familyProtocol: 0x21, address: v2Inet(src, dst, 1, 65535) })),
    );
    expect(result.headerLength).toBe(52);
    expect(result.source).toEqual({ address: '2001:db8::7', port: 1, family: 'IPv6' });
    expect(result.destination).toEqual({ address: '::ffff:10.0.0.1', port: 65535, family: 'IPv6' });
  });

  it('skips TLVs, and counts them in the header', () => {
    const header = v2({
      familyProtocol: 0x11,
      address: v2Inet([192, 0, 2, 1], [192, 0, 2, 2], 1, 2),
      tlvs: [
        { type: 0x02, value: text('example.com') },
        { type: 0x04, value: new Uint8Array(0) },
        { type: 0xea, value: new Uint8Array(300).fill(7) },
      ],
    });
    const result = complete(parseProxyHeader(concat(header, Uint8Array.of(9, 9))));
    expect(result.headerLength).toBe(header.length);
    expect(result.source?.address).toBe('192.0.2.1');
    expect(Array.from(result.rest)).toEqual([9, 9]);
  });

  it('refuses TLVs that run past the header', () => {
    const address = v2Inet([192, 0, 2, 1], [192, 0, 2, 2], 1, 2);
    const overrun = v2({
      familyProtocol: 0x11,
      address: concat(address, Uint8Array.of(0x02, 0, 5, 1, 2)),
    });
    expect(reasonOf(parseProxyHeader(overrun))).toBe(
      'PROXY v2 TLV runs past the end of the header',
    );
    const stub = v2({ familyProtocol: 0x11, address: concat(address, Uint8Array.of(0x02, 0)) });
    expect(reasonOf(parseProxyHeader(stub))).toBe('PROXY v2 header ends inside a TLV');
  });

  it('reads LOCAL as the connection itself, whatever its address block says', () => {
    for (const spec of [
      { command: 0, familyProtocol: 0x00 },
      { command: 0, familyProtocol: 0x11, address: v2Inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2) },
      // The spec: the family of a LOCAL header is ignored, even one that is not assigned.
      { command: 0, familyProtocol: 0xff, address: Uint8Array.of(1, 2, 3) },
    ]) {
      const header = v2(spec);
      const result = complete(parseProxyHeader(concat(header, text('x'))));
      expect(result.command).toBe('local');
      expect(result.headerLength).toBe(header.length);
      expect(result.source).toBeUndefined();
      expect(Buffer.from(result.rest).toString()).toBe('x');
    }
  });

  it('falls back to the connection address for UNSPEC, AF_UNIX and DGRAM', () => {
    for (const familyProtocol of [0x00, 0x01, 0x10, 0x12, 0x22, 0x31, 0x32]) {
      const header = v2({
        familyProtocol,
        address: new Uint8Array(familyProtocol >> 4 === 3 ? 216 : 36),
      });
      const result = complete(parseProxyHeader(header));
      expect(result.command).toBe('proxy');
      expect(result.source).toBeUndefined();
      expect(result.headerLength).toBe(header.length);
    }
  });

  it.each([
    [{ version: 1, familyProtocol: 0x11 }, 'unsupported PROXY v2 version 1'],
    [{ version: 3, familyProtocol: 0x11 }, 'unsupported PROXY v2 version 3'],
    [{ command: 2, familyProtocol: 0x11 }, 'unsupported PROXY v2 command 2'],
    [{ command: 0xf, familyProtocol: 0x11 }, 'unsupported PROXY v2 command 15'],
    [{ familyProtocol: 0x41 }, 'unsupported PROXY v2 address family 4'],
    [{ familyProtocol: 0x13 }, 'unsupported PROXY v2 transport protocol 3'],
    [
      { familyProtocol: 0x11, length: 11 },
      'PROXY v2 length 11 is too short for its 12-byte address',
    ],
    [
      { familyProtocol: 0x21, length: 12 },
      'PROXY v2 length 12 is too short for its 36-byte address',
    ],
  ] as const)('refuses %j: %s', (spec, reason) => {
    // Refused from the first byte that shows it: the 16 fixed bytes at most.
    const header = v2({ ...spec, address: new Uint8Array(64) }).subarray(0, 16);
    expect(reasonOf(parseProxyHeader(header))).toBe(reason);
  });

  it('waits for all the bytes its length field announces', () => {
    const header = v2({
      familyProtocol: 0x11,
      address: v2Inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2),
      length: 40,
    });
    // 28 bytes there of the 56 announced: a truncated header is not complete yet.
    expect(parseProxyHeader(header).state).toBe('incomplete');
    expect(parseProxyHeader(concat(header, new Uint8Array(27))).state).toBe('incomplete');
    // 56 bytes, but the 28 after the address are not whole TLVs.
    expect(parseProxyHeader(concat(header, new Uint8Array(28))).state).toBe('invalid');
    expect(
      complete(parseProxyHeader(concat(header, Uint8Array.of(0xea, 0, 25), new Uint8Array(26))))
        .rest.length,
    ).toBe(1);
  });

  it('refuses a header over maxBytes as soon as its length is known', () => {
    const header = v2({ familyProtocol: 0x11, length: 1000 }).subarray(0, 16);
    expect(reasonOf(parseProxyHeader(header, { maxBytes: 512 }))).toBe(
      'PROXY v2 header of 1016 bytes is over the 512-byte limit',
    );
    expect(parseProxyHeader(header).state).toBe('incomplete');
  });

  it('is incomplete at every byte before the end, fed one byte at a time', () => {
    const header = v2({
      familyProtocol: 0x21,
      address: v2Inet(Array(16).fill(1), Array(16).fill(2), 3, 4),
      tlvs: [{ type: 1, value: text('h2') }],
    });
    for (let n = 0; n < header.length; n++) {
      expect(parseProxyHeader(header.subarray(0, n)).state, `after ${n} bytes`).toBe('incomplete');
    }
    expect(parseProxyHeader(header).state).toBe('complete');
  });
});

describe('parseProxyHeader on anything else', () => {
  it.each([
    [
      'our hello (RTT)',
      Uint8Array.of(0x52, 0x54, 0x54, 0x01, 0x01, 0x01, 0x00, 0x92),
      '52 54 54 01 01 01 00 92',
    ],
    ['a TLS ClientHello', Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00), '16 03 01 02 00'],
    ["the seed wire's key digits", text('146'), '31 34 36'],
    ['an HTTP request', text('GET / HTTP/1.1\r\n'), '47 45 54 20 2f 20 48 54'],
    ['one byte of TLS', Uint8Array.of(0x16), '16'],
  ])('refuses %s at once', (_name, bytes, shown) => {
    expect(parseProxyHeader(bytes)).toEqual({
      state: 'invalid',
      reason: `no PROXY protocol header (starts with ${shown})`,
    });
    expect(parseProxyHeader(bytes.subarray(0, 1)).state).toBe('invalid');
  });

  it('refuses a near miss of either signature at the first differing byte', () => {
    expect(parseProxyHeader(text('PROXX')).state).toBe('invalid');
    expect(parseProxyHeader(text('PROX')).state).toBe('incomplete');
    expect(parseProxyHeader(text('PROXY')).state).toBe('incomplete');
    expect(parseProxyHeader(text('PROXY\r\n')).state).toBe('invalid');
    expect(parseProxyHeader(Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00)).state).toBe('incomplete');
    expect(parseProxyHeader(Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x01)).state).toBe('invalid');
    // An HTTP request's blank line starts like the v2 signature, and parts from it at byte 5.
    expect(parseProxyHeader(text('\r\n\r\nGET')).state).toBe('invalid');
  });

  it('needs a byte to say anything', () => {
    expect(parseProxyHeader(new Uint8Array(0))).toEqual({ state: 'incomplete' });
  });
});

// ---- properties -------------------------------------------------------------------------

interface Expected {
  bytes: Uint8Array;
  command: 'proxy' | 'local';
  source?: ProxyAddress;
  destination?: ProxyAddress;
}

const port = fc.integer({ min: 0, max: 0xffff });
const ipv4Bytes = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 });
const ipv6Bytes = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 16, maxLength: 16 });

/** IPv6 text as a sender may write it: every group in full, compressed, or upper case. */
function ipv6Text(bytes: number[], style: 'full' | 'short' | 'upper'): string {
  const groups = Array.from({ length: 8 }, (_, i) =>
    (((bytes[2 * i] as number) << 8) | (bytes[2 * i + 1] as number)).toString(16),
  );
  if (style === 'full') return groups.map((g) => g.padStart(4, '0')).join(':');
  const compact = new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
  return style === 'upper' ? compact.toUpperCase() : compact;
}

const v1Header: fc.Arbitrary<Expected> = fc.oneof(
  fc.tuple(ipv4Bytes, ipv4Bytes, port, port).map(
    ([s, d, sp, dp]): Expected => ({
      bytes: text(`PROXY TCP4 ${s.join('.')} ${d.join('.')} ${sp} ${dp}\r\n`),
      command: 'proxy',
      source: { address: s.join('.'), port: sp, family: 'IPv4' },
      destination: { address: d.join('.'), port: dp, family: 'IPv4' },
    }),
  ),
  fc
    .tuple(
      ipv6Bytes,
      ipv6Bytes,
      port,
      port,
      fc.constantFrom('full', 'short', 'upper') as fc.Arbitrary<'full' | 'short' | 'upper'>,
    )
    .map(
      ([s, d, sp, dp, style]): Expected => ({
        bytes: text(`PROXY TCP6 ${ipv6Text(s, style)} ${ipv6Text(d, style)} ${sp} ${dp}\r\n`),
        command: 'proxy',
        source: { address: ipv6Text(s, 'full'), port: sp, family: 'IPv6' },
        destination: { address: ipv6Text(d, 'full'), port: dp, family: 'IPv6' },
      }),
    ),
  fc.stringMatching(/^[ -~]{0,92}$/).map(
    (tail): Expected => ({
      bytes: text(`PROXY UNKNOWN${tail ? ` ${tail}` : ''}\r\n`),
      command: 'proxy',
    }),
  ),
);

const tlvs = fc.array(
  fc.record({ type: fc.integer({ min: 0, max: 255 }), value: fc.uint8Array({ maxLength: 40 }) }),
  { maxLength: 3 },
);

const v2Header: fc.Arbitrary<Expected> = fc.oneof(
  fc.tuple(ipv4Bytes, ipv4Bytes, port, port, tlvs).map(
    ([s, d, sp, dp, t]): Expected => ({
      bytes: v2({ familyProtocol: 0x11, address: v2Inet(s, d, sp, dp), tlvs: t }),
      command: 'proxy',
      source: { address: s.join('.'), port: sp, family: 'IPv4' },
      destination: { address: d.join('.'), port: dp, family: 'IPv4' },
    }),
  ),
  fc.tuple(ipv6Bytes, ipv6Bytes, port, port, tlvs).map(
    ([s, d, sp, dp, t]): Expected => ({
      bytes: v2({ familyProtocol: 0x21, address: v2Inet(s, d, sp, dp), tlvs: t }),
      command: 'proxy',
      source: { address: ipv6Text(s, 'full'), port: sp, family: 'IPv6' },
      destination: { address: ipv6Text(d, 'full'), port: dp, family: 'IPv6' },
    }),
  ),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 60 })).map(
    ([familyProtocol, block]): Expected => ({
      bytes: v2({ command: 0, familyProtocol, address: block }),
      command: 'local',
    }),
  ),
  fc.tuple(fc.constantFrom(0x00, 0x12, 0x31), fc.uint8Array({ maxLength: 60 })).map(
    ([familyProtocol, block]): Expected => ({
      bytes: v2({ familyProtocol, address: block }),
      command: 'proxy',
    }),
  ),
);

const anyHeader = fc.oneof(v1Header, v2Header);

function expectAddress(actual: ProxyAddress | undefined, expected: ProxyAddress | undefined) {
  if (expected === undefined) {
    expect(actual).toBeUndefined();
    return;
  }
  expect(actual?.family).toBe(expected.family);
  expect(actual?.port).toBe(expected.port);
  expect(net.isIP(actual?.address ?? '')).toBe(expected.family === 'IPv4' ? 4 : 6);
  expect(sameAddress(actual?.address ?? '', expected.address, expected.family)).toBe(true);
}

/** What every answer must look like, whatever the input. */
function expectWellFormed(result: ProxyHeaderResult, input: Uint8Array) {
  expect(['incomplete', 'invalid', 'complete']).toContain(result.state);
  if (result.state === 'invalid') expect(result.reason).toMatch(/^[ -~]+$/);
  if (result.state !== 'complete') return;
  expect(result.headerLength).toBeGreaterThanOrEqual(15);
  expect(result.headerLength).toBeLessThanOrEqual(input.length);
  expect(Array.from(result.rest)).toEqual(Array.from(input.subarray(result.headerLength)));
  for (const end of [result.source, result.destination]) {
    if (end === undefined) continue;
    expect(Number.isInteger(end.port) && end.port >= 0 && end.port <= 0xffff).toBe(true);
    expect(net.isIP(end.address)).toBe(end.family === 'IPv4' ? 4 : 6);
  }
}

describe('parseProxyHeader properties', () => {
  it('reads any valid header with any payload, however the bytes are cut', () => {
    fc.assert(
      fc.property(
        anyHeader,
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (expected, payload, cuts) => {
          const stream = concat(expected.bytes, payload);
          const headerLength = expected.bytes.length;
          const ends = [...cuts.map((c) => c % (stream.length + 1)), stream.length].sort(
            (a, b) => a - b,
          );
          for (const end of ends) {
            const result = parseProxyHeader(stream.subarray(0, end));
            if (end < headerLength) {
              expect(result.state).toBe('incomplete');
              continue;
            }
            const done = complete(result);
            expect(done.headerLength).toBe(headerLength);
            expect(done.command).toBe(expected.command);
            expectAddress(done.source, expected.source);
            expectAddress(done.destination, expected.destination);
            expect(Array.from(done.rest)).toEqual(Array.from(stream.subarray(headerLength, end)));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('says incomplete for every proper prefix of a valid header', () => {
    fc.assert(
      fc.property(anyHeader, fc.nat(), (expected, at) => {
        const cut = at % expected.bytes.length;
        expect(parseProxyHeader(expected.bytes.subarray(0, cut))).toEqual({ state: 'incomplete' });
      }),
      { numRuns: 500 },
    );
  });

  // Mostly bytes after a real signature, or nearly all would stop at the first byte.
  const arbitraryInput = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.uint8Array({ maxLength: 200 }).map((b) => concat(text('PROXY '), b)),
    fc.stringMatching(/^[ -~\r\n]{0,120}$/).map((s) => text(`PROXY ${s}`)),
    fc.uint8Array({ maxLength: 200 }).map((b) => concat(Uint8Array.from(SIGNATURE), b)),
  );

  it('never throws on arbitrary bytes, and answers one of the three states', () => {
    fc.assert(
      fc.property(arbitraryInput, (bytes) => {
        expectWellFormed(parseProxyHeader(bytes), bytes);
      }),
      { numRuns: 2_000 },
    );
  });

  it('never takes back an answer once given: more bytes keep invalid invalid and complete complete', () => {
    fc.assert(
      fc.property(arbitraryInput, fc.nat(), (bytes, at) => {
        const cut = at % (bytes.length + 1);
        const early = parseProxyHeader(bytes.subarray(0, cut));
        const late = parseProxyHeader(bytes);
        if (early.state === 'invalid') expect(late.state).toBe('invalid');
        if (early.state === 'complete') {
          expect(complete(late).headerLength).toBe(early.headerLength);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('never throws on mutated valid headers, and never takes back an answer', () => {
    fc.assert(
      fc.property(
        anyHeader,
        fc.uint8Array({ maxLength: 16 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(),
        (expected, payload, flips, at) => {
          const bytes = concat(expected.bytes, payload);
          for (const [where, value] of flips) bytes[where % bytes.length] = value;
          const result = parseProxyHeader(bytes);
          expectWellFormed(result, bytes);
          const early = parseProxyHeader(bytes.subarray(0, at % (bytes.length + 1)));
          if (early.state === 'invalid') expect(result.state).toBe('invalid');
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

// ---- readProxyHeader over real sockets --------------------------------------------------

interface Pair {
  server: net.Socket;
  client: net.Socket;
}

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const task of cleanup.splice(0)) task();
});

/** A connected 127.0.0.1 pair; the server's end comes paused, as `main.ts` accepts it. */
async function socketPair(): Promise<Pair> {
  const listener = net.createServer({ pauseOnConnect: true });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const accepted = once(listener, 'connection') as Promise<[net.Socket]>;
  const client = net.connect((listener.address() as AddressInfo).port, '127.0.0.1');
  client.setNoDelay(true);
  client.on('error', () => {});
  const [server] = await accepted;
  server.on('error', () => {});
  cleanup.push(() => {
    client.destroy();
    server.destroy();
    listener.close();
  });
  return { server, client };
}

/** Everything the server end reads from now until the client ends. */
async function readAll(socket: net.Socket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.resume();
  await once(socket, 'end');
  return Buffer.concat(chunks).toString('latin1');
}

const EVENTS = ['data', 'end', 'close', 'error', 'readable'] as const;

/** How many listeners the socket had on each event: node's own, and the test's. */
function listeners(socket: net.Socket): number[] {
  return EVENTS.map((event) => socket.listenerCount(event));
}

/** The socket as it was before the read (`before`: its listeners then), but paused. */
function expectLetGo(socket: net.Socket, before: number[]) {
  expect(listeners(socket)).toEqual(before);
  expect(socket.isPaused()).toBe(true);
}

describe('readProxyHeader', () => {
  it('reads a v1 header and hands back the bytes after it, in order with later ones', async () => {
    const { server, client } = await socketPair();
    const before = listeners(server);
    client.write('PROXY TCP4 203.0.113.7 10.0.0.1 51000 7000\r\nRTT-hello');
    const read = await readProxyHeader(server, { timeoutMs: 5_000 });
    if (!read.ok) throw new Error(read.reason);
    expect(read.header.source).toEqual({ address: '203.0.113.7', port: 51000, family: 'IPv4' });
    expect(Buffer.from(read.rest).toString()).toBe('RTT-hello');
    expect(Buffer.isBuffer(read.rest)).toBe(false);
    expect(read.rest.byteOffset).toBe(0);
    expect(read.rest.buffer.byteLength).toBe(read.rest.length);
    expectLetGo(server, before);
    // Bytes sent after the header stay in the socket, behind the handed-back ones.
    client.end('-and-more');
    await sleep(20);
    server.unshift(read.rest);
    expect(await readAll(server)).toBe('RTT-hello-and-more');
  });

  it('reads a v2 header written in pieces', async () => {
    const { server, client } = await socketPair();
    const before = listeners(server);
    const header = v2({
      familyProtocol: 0x21,
      address: v2Inet(
        [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 9],
        Array(16).fill(0),
        443,
        80,
      ),
      tlvs: [{ type: 0xee, value: new Uint8Array(2000).fill(1) }],
    });
    const reading = readProxyHeader(server, { timeoutMs: 5_000 });
    for (const [from, to] of [
      [0, 1],
      [1, 13],
      [13, 17],
      [17, 1000],
      [1000, header.length],
    ] as const) {
      client.write(header.subarray(from, to));
      await sleep(15);
    }
    client.write('after');
    const read = await reading;
    if (!read.ok) throw new Error(read.reason);
    expect(read.header).toMatchObject({
      version: 2,
      command: 'proxy',
      headerLength: header.length,
      source: { address: '2001:db8::9', port: 443, family: 'IPv6' },
      destination: { address: '::', port: 80, family: 'IPv6' },
    });
    expectLetGo(server, before);
    client.end();
    await sleep(20);
    if (read.rest.length > 0) server.unshift(read.rest);
    expect(await readAll(server)).toBe('after');
  });

  it('reads a LOCAL header as no address', async () => {
    const { server, client } = await socketPair();
    const before = listeners(server);
    client.write(v2({ command: 0, familyProtocol: 0 }));
    const read = await readProxyHeader(server, { timeoutMs: 5_000 });
    expect(read).toEqual({
      ok: true,
      header: { version: 2, command: 'local', headerLength: 16 },
      rest: new Uint8Array(0),
    });
    expectLetGo(server, before);
  });

  it('refuses a client that speaks first without a header, at its first byte', async () => {
    const { server, client } = await socketPair();
    const before = listeners(server);
    client.write(Uint8Array.of(0x52, 0x54, 0x54, 0x01));
    const read = await readProxyHeader(server, { timeoutMs: 5_000 });
    expect(read).toMatchObject({ ok: false, failure: 'invalid' });
    expect(read.ok ? '' : read.reason).toMatch(/^no PROXY protocol header \(starts with 52/);
    expectLetGo(server, before);
    expect(server.destroyed).toBe(false);
  });

  it('gives up after timeoutMs, leaving the socket paused and open', async () => {
    const { server, client } = await socketPair();
    const before = listeners(server);
    client.write('PROXY TCP4 1.2');
    const started = Date.now();
    const read = await readProxyHeader(server, { timeoutMs: 150 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(read).toEqual({
      ok: false,
      failure: 'timeout',
      reason: 'no complete PROXY header within 150 ms',
      received: 14,
    });
    expectLetGo(server, before);
    expect(server.destroyed).toBe(false);
  });

  it('resolves, not rejects, when the client closes before a header', async () => {
    const { server, client } = await socketPair();
    client.end('PROXY ');
    const read = await readProxyHeader(server, { timeoutMs: 5_000 });
    expect(read).toEqual({
      ok: false,
      failure: 'closed',
      reason: 'connection closed before a complete PROXY header (6 bytes)',
      received: 6,
    });
  });

  it('resolves when the client resets the connection', async () => {
    const { server, client } = await socketPair();
    client.write('PROXY ');
    const reading = readProxyHeader(server, { timeoutMs: 5_000 });
    await sleep(20);
    client.resetAndDestroy();
    const read = await reading;
    expect(read.ok).toBe(false);
    expect(read.ok ? '' : read.failure).toMatch(/^(closed|error)$/);
  });

  it('answers at once for a socket already closed', async () => {
    const { server } = await socketPair();
    server.destroy();
    const read = await readProxyHeader(server, { timeoutMs: 5_000 });
    expect(read).toMatchObject({ ok: false, failure: 'closed', received: 0 });
  });

  it('stops when its signal fires', async () => {
    const { server } = await socketPair();
    const before = listeners(server);
    const controller = new AbortController();
    const reading = readProxyHeader(server, { timeoutMs: 5_000, signal: controller.signal });
    controller.abort();
    expect(await reading).toMatchObject({ ok: false, failure: 'aborted' });
    expectLetGo(server, before);
  });

  it('refuses a v2 header over maxBytes without reading it all', async () => {
    const { server, client } = await socketPair();
    const before = listeners(server);
    client.write(v2({ familyProtocol: 0x11, length: 60_000 }).subarray(0, 16));
    const read = await readProxyHeader(server, { timeoutMs: 5_000, maxBytes: 4096 });
    expect(read).toMatchObject({
      ok: false,
      failure: 'invalid',
      reason: 'PROXY v2 header of 60016 bytes is over the 4096-byte limit',
      received: 16,
    });
    expectLetGo(server, before);
  });
});

// ---- --proxy-from -----------------------------------------------------------------------

describe('proxyAllowed', () => {
  it('takes IPv4 and IPv6 blocks and plain addresses', () => {
    const allowed = proxyAllowed('10.0.0.0/8, 2001:db8::/32,192.0.2.7,::1');
    expect(allowed('10.255.0.1')).toBe(true);
    expect(allowed('11.0.0.1')).toBe(false);
    expect(allowed('2001:db8:ffff::1')).toBe(true);
    expect(allowed('2001:db9::1')).toBe(false);
    expect(allowed('192.0.2.7')).toBe(true);
    expect(allowed('192.0.2.8')).toBe(false);
    expect(allowed('::1')).toBe(true);
    expect(allowed('127.0.0.1')).toBe(false);
  });

  it('matches an IPv4 client on a dual-stack socket by its IPv4 block', () => {
    const allowed = proxyAllowed('10.0.0.0/8');
    expect(allowed('::ffff:10.0.0.1')).toBe(true);
    expect(allowed('::ffff:11.0.0.1')).toBe(false);
  });

  it('takes several strings, as a repeated option gives them, and skips empty entries', () => {
    const allowed = proxyAllowed(['10.0.0.0/8,', ' 172.16.0.0/12 ']);
    expect(allowed('172.31.255.255')).toBe(true);
    expect(allowed('10.1.1.1')).toBe(true);
  });

  it('allows no unknown or missing address', () => {
    const allowed = proxyAllowed('0.0.0.0/0');
    expect(allowed('1.2.3.4')).toBe(true);
    expect(allowed(undefined)).toBe(false);
    expect(allowed('garbage')).toBe(false);
    expect(allowed('')).toBe(false);
  });

  it.each([
    '10.0.0.0/33',
    '2001:db8::/129',
    '10.0.0.0/',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    '10.0.0.0/x',
    '/8',
    '10.0.0',
    'example.com',
    'fe80::1%eth0',
    '10.0.0.0 /8',
  ])('refuses %j, naming it', (entry) => {
    expect(() => proxyAllowed(`192.0.2.1,${entry}`)).toThrow(ServerAppError);
    expect(() => proxyAllowed(`192.0.2.1,${entry}`)).toThrow(
      `invalid --proxy-from entry '${entry.trim()}'`,
    );
  });

  it('refuses an empty list', () => {
    expect(() => proxyAllowed(' , ')).toThrow(
      '--proxy-from needs at least one address or CIDR block',
    );
    expect(() => proxyAllowed([])).toThrow(ServerAppError);
  });
});
