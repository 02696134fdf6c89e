#!/usr/bin/env bash
# Packs the three libraries as they would be published and uses them from an outside
# project: ESM import and CommonJS require on the machine's own Node (>= 20) and on the
# workspace's Node 26, and TypeScript type checks under NodeNext resolution. Also runs
# publint and "are the types wrong" on each package.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
node26="$root/node_modules/.bin/node"
system_node=$(PATH=$(echo "$PATH" | tr ':' '\n' | grep -v node_modules | paste -sd:) command -v node)

for pkg in cipher protocol pool; do
  echo "== publint and attw: @rtt/$pkg"
  pnpm exec publint --strict "packages/$pkg"
  pnpm exec attw --pack "packages/$pkg" --profile node16
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for pkg in cipher protocol pool; do
  pnpm --filter "@rtt/$pkg" pack --pack-destination "$work" >/dev/null
done

cd "$work"
cat > package.json <<'JSON'
{ "name": "outside-project", "version": "1.0.0", "private": true }
JSON
npm install --no-audit --no-fund --silent ./rtt-cipher-*.tgz ./rtt-protocol-*.tgz ./rtt-pool-*.tgz typescript@5.9.3 @types/node@24

# The same protocol check for the ESM and the CommonJS build: the packed decoder must read back,
# fed one byte at a time, a ClientHello written by hand from docs/PROTOCOL.md (cipher NONE,
# public key 249) and two REQUEST frames from the packed encoder. The /node subpath must give
# the connection API (connect, serveConnection, StreamTransport).
cat > check-protocol.cjs <<'JS'
const assert = require('node:assert/strict');
exports.checkProtocol = function checkProtocol({ Command, encodeRequest, FrameDecoder }, node) {
  for (const [name, code] of Object.entries({ TIME: 1, DATE: 2, TEMP: 3, PING: 4 }))
    assert.equal(Command[name], code, `Command.${name}`);
  const parts = [...encodeRequest(7, Command.TIME), ...encodeRequest(8, Command.PING, 'hi')];
  const wire = Buffer.concat([Buffer.from([0x52, 0x54, 0x54, 1, 0, 1, 0, 0xf9]), ...parts]);
  const seen = [];
  const decoder = new FrameDecoder({
    role: 'server',
    onMessage: (m) => seen.push(m.type === 'request' ? { ...m, payload: Buffer.from(m.payload).toString() } : { ...m }),
  });
  for (const byte of wire) decoder.push(Uint8Array.of(byte));
  assert.deepEqual(seen, [
    { type: 'client-hello', version: 1, cipher: 0, group: 1, publicKey: 249 },
    { type: 'request', id: 7, command: 1, payload: '' },
    { type: 'request', id: 8, command: 4, payload: 'hi' },
  ], 'decoded messages');
  assert.equal(decoder.bufferedBytes, 0, 'bytes left in the decoder');
  for (const name of ['connect', 'serveConnection', 'StreamTransport', 'RttClient'])
    assert.equal(typeof node[name], 'function', `@rtt/protocol/node exports ${name}`);
};
JS

cat > esm.mjs <<'JS'
import { caesarEncrypt, caesarDecrypt, createKeyPair, deriveSharedKey } from '@rtt/cipher';
import * as protocol from '@rtt/protocol';
import * as node from '@rtt/protocol/node';
import { createPool, supportsSocketTransfer } from '@rtt/pool';
import { checkProtocol } from './check-protocol.cjs';
const { Command, encodeRequest, concatFrame } = protocol;
const plain = new TextEncoder().encode('HELLO');
if (new TextDecoder().decode(caesarDecrypt(caesarEncrypt(plain, 300), 300)) !== 'HELLO') throw new Error('caesar');
const a = createKeyPair(), b = createKeyPair();
if (deriveSharedKey(a.privateKey, b.publicKey) !== deriveSharedKey(b.privateKey, a.publicKey)) throw new Error('dh');
checkProtocol(protocol, node);
const pool = createPool({ threads: 0 });
await pool.close();
if (supportsSocketTransfer()) {
  const threaded = createPool({ threads: 1 });
  await threaded.close();
} else {
  try { createPool({ threads: 1 }); throw new Error('expected an error'); }
  catch (err) { if (err.code !== 'RTT_ERR_SOCKET_TRANSFER_UNSUPPORTED') throw err; }
}
console.log(`esm ok on Node ${process.versions.node}`, Command.TIME, concatFrame(encodeRequest(1, Command.TIME)).length);
JS

cat > cjs.cjs <<'JS'
const { caesarEncrypt } = require('@rtt/cipher');
const protocol = require('@rtt/protocol');
const { createPool, PoolError } = require('@rtt/pool');
const { checkProtocol } = require('./check-protocol.cjs');
const { Command } = protocol;
const out = caesarEncrypt(new Uint8Array([1, 2, 3]), 4);
if (out.join() !== '5,6,7') throw new Error('caesar');
checkProtocol(protocol, require('@rtt/protocol/node'));
if (typeof createPool !== 'function' || typeof PoolError !== 'function') throw new Error('pool');
console.log(`cjs ok on Node ${process.versions.node}`, Command.DATE);
JS

cat > types.mts <<'TS'
import { caesarEncrypt, type DhGroup, SEED_GROUP } from '@rtt/cipher';
import { Command, type DecodedMessage, FrameDecoder } from '@rtt/protocol';
import * as node from '@rtt/protocol/node';
import { connect, type Reply, type RttClient } from '@rtt/protocol/node';
import { createPool, type SessionSummary } from '@rtt/pool';
export async function ask(port: number): Promise<Reply> {
  const client: RttClient = await connect({ port, wire: 'seed', timeoutMs: 1_000 });
  return client.request('TIME');
}
const bytes: Uint8Array = caesarEncrypt(new Uint8Array(4), 4);
const group: DhGroup = SEED_GROUP;
const code: 1 = Command.TIME;
const pool = createPool<{ peer: string }>({ threads: 0 });
const summary: Promise<SessionSummary> | undefined = undefined;
export { bytes, group, code, pool, summary, FrameDecoder, node };
export type { DecodedMessage };
TS
cat > types.cts <<'TS'
import cipher = require('@rtt/cipher');
import protocol = require('@rtt/protocol');
import pool = require('@rtt/pool');
export const bytes: Uint8Array = cipher.caesarEncrypt(new Uint8Array(4), 4);
export const time: number = protocol.Command.TIME;
export const create = pool.createPool;
TS
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, "noEmit": true, "types": ["node"], "skipLibCheck": false, "lib": ["ES2023", "DOM"] }, "files": ["types.mts", "types.cts"] }
JSON

echo "== outside project"
"$system_node" esm.mjs
"$system_node" cjs.cjs
"$node26" esm.mjs
"$node26" cjs.cjs
"$node26" node_modules/typescript/bin/tsc -p tsconfig.json
echo "types ok"

# The protocol README's runnable example, as a user would copy it (taken from the README, so
# the document cannot drift from the code): a server and a client on both wires, both Nodes.
awk '/^\/\/ example\.mjs$/ { on = 1 } on && /^```$/ { exit } on' "$root/packages/protocol/README.md" > example.mjs
test -s example.mjs
for runtime in "$system_node" "$node26"; do
  out=$("$runtime" example.mjs)
  echo "$out" | grep -Eq '^key [0-9]+: [0-9:.]+, [0-9-]+, 21°C \(simulated\) \([0-9.]+ ms\)$'
  echo "$out" | tail -1 | grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}$'
  echo "README example ok on Node $("$runtime" --version)"
done
