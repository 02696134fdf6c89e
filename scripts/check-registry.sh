#!/usr/bin/env bash
# Publishes for real, to a throwaway registry, and installs like a user would. Starts verdaccio
# (scripts/registry, installed with npm ci, run on the workspace's Node 26) on 127.0.0.1 at a
# free port with a temporary storage that allows anonymous publishing; `pnpm -r publish`es the
# three libraries and the three apps to it (each package's prepack builds it); then:
#   - in fresh outside projects, installs each library alone, with npm and with pnpm, and
#     imports it (ESM), requires it (CommonJS) and type-checks it (NodeNext, .mts and .cts);
#   - installs @rtt/server, @rtt/client and @rtt/bench globally into a temporary prefix with npm
#     and runs the commands on the machine's own Node: exit codes (bad option 2, port in use 1),
#     a client session, a short bench, and SIGTERM ending the server with exit code 0.
# Every process it starts is stopped and every temporary file removed on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
node26="$root/node_modules/.bin/node"
# The machine's own Node (and npm, pnpm), whatever started this script: no node_modules/.bin.
clean_path=$(echo "$PATH" | tr ':' '\n' | grep -v node_modules | paste -sd:)
system_node=$(PATH=$clean_path command -v node)

work=$(mktemp -d)
registry_pid=
server_pid=
cleanup() {
  local pid
  for pid in $server_pid $registry_pid; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
# Ctrl+C or a kill: exit, so that the EXIT trap stops what was started.
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "check-registry: $*" >&2
  exit 1
}
# Prints a file and fails.
fail_with() {
  local message=$1 file=$2
  echo "---- $file" >&2
  cat "$file" >&2 || true
  fail "$message"
}

# Waits up to $3 seconds for a file to match an extended regex.
wait_for() {
  local file=$1 pattern=$2 seconds=$3 i
  for ((i = 0; i < seconds * 10; i++)); do
    if grep -Eq "$pattern" "$file" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

echo "== test registry (verdaccio)"
npm ci --prefix "$root/scripts/registry" --no-audit --no-fund --loglevel=error </dev/null
registry_port=$("$system_node" -e '
  const server = require("node:net").createServer();
  server.listen(0, "127.0.0.1", () => { console.log(server.address().port); server.close(); });')
registry="http://127.0.0.1:$registry_port/"
mkdir -p "$work/registry/storage"
cat > "$work/registry/config.yaml" <<YAML
storage: $work/registry/storage
auth:
  htpasswd:
    file: $work/registry/htpasswd
    max_users: -1
# No uplinks: @rtt/* comes only from what this run publishes; everything else is installed
# from the machine's usual registry (the outside projects scope only @rtt to this one).
uplinks: {}
packages:
  '**':
    access: \$all
    publish: \$anonymous
    unpublish: \$anonymous
web:
  enable: false
log: { type: stdout, format: pretty, level: warn }
YAML
"$node26" "$root/scripts/registry/node_modules/verdaccio/bin/verdaccio" \
  --config "$work/registry/config.yaml" --listen "127.0.0.1:$registry_port" \
  >"$work/registry.log" 2>&1 </dev/null &
registry_pid=$!
for ((i = 0; ; i++)); do
  if "$system_node" -e 'fetch(process.argv[1] + "-/ping").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$registry"; then
    break
  fi
  ((i < 150)) || fail_with "verdaccio did not start" "$work/registry.log"
  sleep 0.2
done
echo "registry at $registry"

echo "== pnpm -r publish (prepack builds each package)"
pnpm -r publish --registry "$registry" --no-git-checks </dev/null >"$work/publish.log" 2>&1 ||
  fail_with "pnpm publish failed" "$work/publish.log"
grep -E '^\+ |Published' "$work/publish.log" || true
for pkg in cipher protocol pool server client bench; do
  "$system_node" -e '
    fetch(process.argv[1] + "@rtt%2f" + process.argv[2]).then(async (r) => {
      if (!r.ok) throw new Error(`@rtt/${process.argv[2]} is not in the registry (${r.status})`);
      const doc = await r.json();
      const latest = doc.versions[doc["dist-tags"].latest];
      const deps = JSON.stringify(latest.dependencies ?? {});
      if (/workspace:|catalog:/.test(deps)) throw new Error(`unresolved protocol in ${deps}`);
      console.log(`@rtt/${process.argv[2]}@${latest.version} dependencies ${deps}`);
    }).catch((err) => { console.error(err.message); process.exit(1); });' "$registry" "$pkg"
done

# One outside project per library and package manager: the library alone (its own dependencies
# come with it), @types/node for the ones with a Node side, and the workspace's TypeScript.
tsc="$root/node_modules/typescript/bin/tsc"
check_library() {
  local pm=$1 pkg=$2 dir="$work/outside-$1-$2"
  mkdir -p "$dir"
  cd "$dir"
  printf '{ "name": "outside-%s-%s", "version": "1.0.0", "private": true }\n' "$pm" "$pkg" >package.json
  printf '@rtt:registry=%s\n' "$registry" >.npmrc
  local extra=() types='[]'
  if [ "$pkg" != cipher ]; then
    extra=(@types/node@24)
    types='["node"]'
  fi
  if [ "$pm" = npm ]; then
    npm install --no-audit --no-fund --loglevel=error --cache "$work/npm-cache" \
      "@rtt/$pkg" "${extra[@]}" </dev/null >install.log 2>&1 || fail_with "npm install @rtt/$pkg" install.log
  else
    pnpm add --config.cache-dir="$work/pnpm-cache" "@rtt/$pkg" "${extra[@]}" \
      </dev/null >install.log 2>&1 || fail_with "pnpm add @rtt/$pkg" install.log
  fi
  case $pkg in
  cipher)
    cat >esm.mjs <<'JS'
import { caesarDecrypt, caesarEncrypt, createKeyPair, deriveSharedKey } from '@rtt/cipher';
const a = createKeyPair(), b = createKeyPair();
const key = deriveSharedKey(a.privateKey, b.publicKey);
if (key !== deriveSharedKey(b.privateKey, a.publicKey)) throw new Error('dh');
const text = new TextDecoder().decode(caesarDecrypt(caesarEncrypt(new TextEncoder().encode('TIME'), key), key));
if (text !== 'TIME') throw new Error('caesar');
JS
    cat >cjs.cjs <<'JS'
const { caesarEncrypt } = require('@rtt/cipher');
if (caesarEncrypt(new Uint8Array([1, 2, 3]), 4).join() !== '5,6,7') throw new Error('caesar');
JS
    cat >types.mts <<'TS'
import { caesarEncrypt, type DhGroup, SEED_GROUP } from '@rtt/cipher';
export const bytes: Uint8Array = caesarEncrypt(new Uint8Array(4), 4);
export const group: DhGroup = SEED_GROUP;
TS
    cat >types.cts <<'TS'
import cipher = require('@rtt/cipher');
export const bytes: Uint8Array = cipher.caesarEncrypt(new Uint8Array(4), 4);
TS
    ;;
  protocol)
    cat >esm.mjs <<'JS'
import { Command, concatFrame, encodeRequest, FrameDecoder } from '@rtt/protocol';
import { connect, serveConnection } from '@rtt/protocol/node';
if (Command.TIME !== 1 || typeof FrameDecoder !== 'function') throw new Error('protocol');
if (concatFrame(encodeRequest(1, Command.TIME)).length === 0) throw new Error('frame');
if (typeof connect !== 'function' || typeof serveConnection !== 'function') throw new Error('node');
JS
    cat >cjs.cjs <<'JS'
const { Command } = require('@rtt/protocol');
const { connect } = require('@rtt/protocol/node');
if (Command.DATE !== 2 || typeof connect !== 'function') throw new Error('protocol');
JS
    cat >types.mts <<'TS'
import { Command, type DecodedMessage } from '@rtt/protocol';
import { connect, type Reply } from '@rtt/protocol/node';
export async function ask(port: number): Promise<Reply> {
  const client = await connect({ port, timeoutMs: 1_000 });
  return client.request('TIME');
}
export const time: 1 = Command.TIME;
export type { DecodedMessage };
TS
    cat >types.cts <<'TS'
import protocol = require('@rtt/protocol');
import node = require('@rtt/protocol/node');
export const date: number = protocol.Command.DATE;
export const connect = node.connect;
TS
    ;;
  pool)
    cat >esm.mjs <<'JS'
import { createPool, supportsSocketTransfer } from '@rtt/pool';
const pool = createPool({ threads: 0 });
await pool.close();
if (typeof supportsSocketTransfer() !== 'boolean') throw new Error('pool');
JS
    cat >cjs.cjs <<'JS'
const { createPool, PoolError } = require('@rtt/pool');
if (typeof createPool !== 'function' || typeof PoolError !== 'function') throw new Error('pool');
JS
    cat >types.mts <<'TS'
import { createPool, type SessionSummary } from '@rtt/pool';
export const pool = createPool<{ peer: string }>({ threads: 0 });
export type Summary = SessionSummary;
TS
    cat >types.cts <<'TS'
import pool = require('@rtt/pool');
export const create = pool.createPool;
TS
    ;;
  esac
  printf '{ "compilerOptions": { "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, "noEmit": true, "skipLibCheck": false, "lib": ["ES2023", "DOM"], "types": %s }, "files": ["types.mts", "types.cts"] }\n' "$types" >tsconfig.json
  "$system_node" esm.mjs
  "$system_node" cjs.cjs
  "$system_node" "$tsc" -p tsconfig.json
  echo "@rtt/$pkg alone with $pm: import, require and types ok on Node $("$system_node" --version)"
  cd "$root"
}

echo "== each library alone in an outside project"
for pkg in cipher protocol pool; do
  for pm in npm pnpm; do
    check_library "$pm" "$pkg"
  done
done

echo "== the commands, installed globally with npm, on the machine's Node"
prefix="$work/global"
npm install --global --prefix "$prefix" --no-audit --no-fund --loglevel=error \
  --cache "$work/npm-cache" "--@rtt:registry=$registry" \
  @rtt/server @rtt/client @rtt/bench </dev/null >"$work/global.log" 2>&1 ||
  fail_with "npm install --global" "$work/global.log"
export PATH="$prefix/bin:$clean_path"
for command in rtt-server rtt-client rtt-bench; do
  [ "$(command -v "$command")" = "$prefix/bin/$command" ] || fail "$command is not installed in $prefix/bin"
done
node_version=$(node --version)
echo "commands in $prefix/bin, on Node $node_version"
cd "$work"

expect_exit() {
  local want=$1
  shift
  local code=0
  "$@" </dev/null >"$work/run.out" 2>&1 || code=$?
  [ "$code" = "$want" ] || fail_with "$* exited with $code, not $want" "$work/run.out"
  echo "$* -> exit $code: $(head -1 "$work/run.out")"
}
expect_exit 0 rtt-server --version
expect_exit 2 rtt-server --bogus
expect_exit 2 rtt-client --bogus
expect_exit 2 rtt-bench --bogus

rtt-server -ip 127.0.0.1 -p 0 </dev/null >"$work/server.log" 2>&1 &
server_pid=$!
wait_for "$work/server.log" 'Listening on 127\.0\.0\.1 port [0-9]+' 20 ||
  fail_with "rtt-server did not start" "$work/server.log"
port=$(grep -Eo 'Listening on 127\.0\.0\.1 port [0-9]+' "$work/server.log" | grep -Eo '[0-9]+$')
echo "rtt-server listening on port $port"
# Threads need socket transfer (Node >= 26.6); an older Node serves on the main thread and says
# so in one line.
if node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 26 || (a === 26 && b >= 6) ? 0 : 1)'; then
  grep -q 'Serving with a pool of up to 32 threads' "$work/server.log" ||
    fail_with "no pool line in the server's log" "$work/server.log"
else
  [ "$(grep -c 'cannot move connections to worker threads' "$work/server.log")" = 1 ] ||
    fail_with "no single warning about the pool on Node $node_version" "$work/server.log"
  grep -q 'Serving every session on the main thread: .*run on Node.js >= 26.6' "$work/server.log" ||
    fail_with "the warning does not say how to get the pool" "$work/server.log"
  echo "warning: $(grep 'cannot move connections' "$work/server.log")"
fi

expect_exit 1 rtt-server -ip 127.0.0.1 -p "$port"
grep -q "port $port: it is already in use" "$work/run.out" || fail_with "no 'in use' line" "$work/run.out"

code=0
printf '1\n4\n' | rtt-client -p "$port" >"$work/client.out" 2>&1 || code=$?
[ "$code" = 0 ] || fail_with "rtt-client exited with $code" "$work/client.out"
grep -Eq "connected to the server with 127\.0\.0\.1 address on port $port\. Sum: [0-9]+$" "$work/client.out" ||
  fail_with "no banner" "$work/client.out"
grep -Eq '^💡 Response: [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} with RTT [0-9]+\.[0-9]{4} ms$' "$work/client.out" ||
  fail_with "no '💡 Response:' line" "$work/client.out"
grep "💡 Response:" "$work/client.out"

# The script modes: one answer as JSON, then a short ping run with its summary.
expect_exit 0 rtt-client -p "$port" time --json
grep -Eq '^\{"command":"TIME","status":"OK","answer":"[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}","rtt_ms":[0-9.]+,"offset_ms":-?[0-9.]+\}$' "$work/run.out" ||
  fail_with "rtt-client time --json printed no answer" "$work/run.out"
expect_exit 0 rtt-client -p "$port" ping --count 3 --interval 0.05
grep -Eq '^3 sent, 3 answered, 0% lost; rtt min/avg/max/mdev = ' "$work/run.out" ||
  fail_with "rtt-client ping printed no summary" "$work/run.out"
tail -1 "$work/run.out"

expect_exit 0 rtt-bench -p "$port" -n 2000 -c 4 --threads 2 --json
grep -q '"requests":2000,' "$work/run.out" || fail_with "rtt-bench measured nothing" "$work/run.out"

kill -TERM "$server_pid"
code=0
wait "$server_pid" || code=$?
server_pid=
[ "$code" = 0 ] || fail_with "rtt-server exited with $code after SIGTERM" "$work/server.log"
grep -q 'Server closing...' "$work/server.log" || fail_with "no 'Server closing...'" "$work/server.log"
echo "rtt-server stopped by SIGTERM: exit 0"

# TLS on this Node too: the certificate made on first start (@peculiar/x509 over WebCrypto),
# the client trusting it on first use.
rtt-server -ip 127.0.0.1 -p 0 --tls --state-dir "$work/state" </dev/null >"$work/tls-server.log" 2>&1 &
server_pid=$!
wait_for "$work/tls-server.log" 'Listening on 127\.0\.0\.1 port [0-9]+' 20 ||
  fail_with "rtt-server --tls did not start" "$work/tls-server.log"
port=$(grep -Eo 'Listening on 127\.0\.0\.1 port [0-9]+' "$work/tls-server.log" | grep -Eo '[0-9]+$')
fingerprint=$(grep -Eo 'fingerprint sha256:[A-Za-z0-9+/]+' "$work/tls-server.log" | cut -d' ' -f2)
[ -n "$fingerprint" ] || fail_with "rtt-server --tls logged no fingerprint" "$work/tls-server.log"
expect_exit 0 rtt-client -p "$port" --tls --known-servers "$work/known_servers" time --json
grep -q "Trusting 127.0.0.1:$port on first use: $fingerprint" "$work/run.out" ||
  fail_with "rtt-client --tls did not trust the server's certificate on first use" "$work/run.out"
grep -q '"status":"OK"' "$work/run.out" || fail_with "no answer over TLS" "$work/run.out"
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=
echo "rtt-server --tls and rtt-client --tls: $fingerprint trusted on first use, TIME answered"
echo "== registry check passed"
