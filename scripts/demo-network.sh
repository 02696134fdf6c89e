#!/usr/bin/env bash
# The seed's example, reproducible: the server on one machine with a client beside it, and a
# second client on another machine across a network, all captured for Wireshark.
#
# The seed used a laptop and a virtual machine; here two network namespaces joined by a veth
# pair stand in for them:
#
#   namespace "server" (10.77.0.1)                 namespace "remote" (10.77.0.2)
#     rtt-server on 0.0.0.0:7777   <--- veth --->     rtt-client --wire seed
#     rtt-client -> 127.0.0.1 (lo)                    the seed's Python client (if python3)
#
# tshark captures port 7777 on both of the server's interfaces (lo and the veth) into one
# pcapng, which is then read through wireshark/rtt.lua. Everything the script creates (the
# namespaces, the veth pair, every process) is removed when it ends, fails or is interrupted.
#
# Usage (as root): scripts/demo-network.sh [OUTPUT_DIR]      (pnpm demo:network -- [OUTPUT_DIR])
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LUA="$ROOT/wireshark/rtt.lua"
PORT=7777
SERVER_IP=10.77.0.1
REMOTE_IP=10.77.0.2
NS_SERVER="rtt-demo-$$-server"
NS_REMOTE="rtt-demo-$$-remote"
VETH_SERVER="rtt$$s" # interface names have at most 15 characters
VETH_REMOTE="rtt$$r"

fail() {
  echo "demo:network: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || fail "needs root (network namespaces and capturing): run it with sudo"
command -v ip >/dev/null 2>&1 || fail "needs the ip command (Debian/Ubuntu: apt-get install iproute2)"
TSHARK=${TSHARK:-tshark}
command -v "$TSHARK" >/dev/null 2>&1 || fail "needs tshark (Debian/Ubuntu: apt-get install tshark)"

# The workspace's Node 26 runs the apps from their TypeScript source, as `pnpm start` does;
# without it, the built apps (pnpm build) on whatever node there is.
if [ -x "$ROOT/node_modules/.bin/node" ]; then
  NODE="$ROOT/node_modules/.bin/node"
  SERVER=("$NODE" --conditions=rtt-source "$ROOT/apps/server/src/main.ts")
  CLIENT=("$NODE" --conditions=rtt-source "$ROOT/apps/client/src/main.ts")
elif command -v node >/dev/null 2>&1 && [ -f "$ROOT/apps/server/dist/main.js" ]; then
  SERVER=(node "$ROOT/apps/server/dist/main.js")
  CLIENT=(node "$ROOT/apps/client/dist/main.js")
else
  fail "run pnpm install first (or pnpm build, to use the built apps)"
fi

# `pnpm demo:network -- DIR` passes the `--` along.
if [ "${1:-}" = "--" ]; then shift; fi
OUT=${1:-}
if [ -z "$OUT" ]; then
  OUT=$(mktemp -d "${TMPDIR:-/tmp}/rtt-demo.XXXXXX")
else
  mkdir -p "$OUT"
  OUT=$(cd "$OUT" && pwd)
fi
CAPTURE="$OUT/seed-example.pcapng"

PIDS=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # Every process in the two namespaces is ours: the server, the clients, tshark and dumpcap.
  for ns in "$NS_SERVER" "$NS_REMOTE"; do
    if ip netns list | grep -qw "$ns"; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
    fi
  done
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for ns in "$NS_SERVER" "$NS_REMOTE"; do
      if ip netns list | grep -qw "$ns" && [ -n "$(ip netns pids "$ns" 2>/dev/null)" ]; then
        alive=1
      fi
    done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for ns in "$NS_SERVER" "$NS_REMOTE"; do
    if ip netns list | grep -qw "$ns"; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    fi
  done
  wait 2>/dev/null || true
  ip link del "$VETH_SERVER" 2>/dev/null || true
  ip netns del "$NS_SERVER" 2>/dev/null || true
  ip netns del "$NS_REMOTE" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then
    echo "demo:network: stopped (exit $status); namespaces and processes removed" >&2
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits (at most $2 tenths of a second) until the command $1 succeeds.
wait_until() {
  local condition=$1 tries=$2
  for _ in $(seq 1 "$tries"); do
    if eval "$condition"; then return 0; fi
    sleep 0.1
  done
  return 1
}

echo "== two machines: namespaces $NS_SERVER ($SERVER_IP) and $NS_REMOTE ($REMOTE_IP)"
ip netns add "$NS_SERVER"
ip netns add "$NS_REMOTE"
ip link add "$VETH_SERVER" type veth peer name "$VETH_REMOTE"
ip link set "$VETH_SERVER" netns "$NS_SERVER"
ip link set "$VETH_REMOTE" netns "$NS_REMOTE"
ip -n "$NS_SERVER" addr add "$SERVER_IP/24" dev "$VETH_SERVER"
ip -n "$NS_REMOTE" addr add "$REMOTE_IP/24" dev "$VETH_REMOTE"
for ns in "$NS_SERVER" "$NS_REMOTE"; do ip -n "$ns" link set lo up; done
ip -n "$NS_SERVER" link set "$VETH_SERVER" up
ip -n "$NS_REMOTE" link set "$VETH_REMOTE" up
# A network has some delay; a veth pair has none. netem adds it where the kernel has it.
if ip netns exec "$NS_REMOTE" tc qdisc add dev "$VETH_REMOTE" root netem delay 2ms 2>/dev/null &&
  ip netns exec "$NS_SERVER" tc qdisc add dev "$VETH_SERVER" root netem delay 2ms 2>/dev/null; then
  echo "   netem: 2 ms each way across the veth pair (4 ms round trip)"
else
  echo "   netem: not in this kernel, so no added delay across the veth pair"
fi

echo "== the server in $NS_SERVER, port $PORT"
ip netns exec "$NS_SERVER" "${SERVER[@]}" -ip 0.0.0.0 -p "$PORT" -t 2 >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
wait_until "grep -q 'Listening on' '$OUT/server.log'" 300 ||
  fail "the server did not start: $(tail -n 3 "$OUT/server.log")"

echo "== capturing port $PORT on lo and $VETH_SERVER in $NS_SERVER"
ip netns exec "$NS_SERVER" "$TSHARK" -i lo -f "tcp port $PORT" -i "$VETH_SERVER" -f "tcp port $PORT" \
  -a duration:300 -w "$CAPTURE" >"$OUT/tshark.log" 2>&1 &
TSHARK_PID=$!
PIDS+=("$TSHARK_PID")
wait_until "grep -q 'Capture started' '$OUT/tshark.log'" 300 ||
  fail "tshark did not start capturing: $(tail -n 3 "$OUT/tshark.log")"

# The seed's example: the local client asks TEMP, TIME, DATE; the one on the other machine
# TIME, DATE, TEMP; both connected at once, as the seed's server log shows.
echo "== a client beside the server (127.0.0.1) and one across the network, at once"
printf '3\n1\n2\n4\n' | ip netns exec "$NS_SERVER" "${CLIENT[@]}" -ip 127.0.0.1 -p "$PORT" \
  >"$OUT/local-client.log" 2>&1 &
LOCAL_PID=$!
PIDS+=("$LOCAL_PID")
printf '1\n2\n3\n4\n' | ip netns exec "$NS_REMOTE" "${CLIENT[@]}" -ip "$SERVER_IP" -p "$PORT" \
  --wire seed >"$OUT/remote-client.log" 2>&1 &
REMOTE_PID=$!
PIDS+=("$REMOTE_PID")
wait "$LOCAL_PID" || fail "the local client failed: $(tail -n 3 "$OUT/local-client.log")"
wait "$REMOTE_PID" || fail "the remote client failed: $(tail -n 3 "$OUT/remote-client.log")"
SESSIONS=2
if command -v python3 >/dev/null 2>&1; then
  echo "== the seed's own Python client, across the network"
  printf '1\n2\n3\n4\n' | ip netns exec "$NS_REMOTE" python3 "$ROOT/e2e/fixtures/seed_client.py" \
    -ip "$SERVER_IP" -p "$PORT" >"$OUT/python-client.log" 2>&1 &
  PYTHON_PID=$!
  PIDS+=("$PYTHON_PID")
  wait "$PYTHON_PID" || fail "the Python client failed: $(tail -n 3 "$OUT/python-client.log")"
  SESSIONS=3
fi
for log in local-client remote-client python-client; do
  [ -f "$OUT/$log.log" ] || continue
  echo "-- $log"
  grep -E 'connected to the server|Response:|Connection closed' "$OUT/$log.log" | sed 's/^/   /'
done

# dumpcap hands packets over in blocks and drops the current one when stopped: wait until the
# file holds every connection's two FINs before stopping it.
fins() { "$TSHARK" -r "$CAPTURE" -Y 'tcp.flags.fin == 1' 2>/dev/null | wc -l; }
wait_until "[ \"\$(fins)\" -ge $((SESSIONS * 2)) ]" 100 ||
  echo "   (not every connection's end is in the capture)"
kill -INT "$TSHARK_PID"
wait "$TSHARK_PID" || true
kill -INT "$SERVER_PID"
wait "$SERVER_PID" || true
echo "-- server"
sed 's/^/   /' "$OUT/server.log"

echo "== the capture: $CAPTURE ($(wc -c <"$CAPTURE") bytes)"
echo "== read through wireshark/rtt.lua (tshark -r ... -X lua_script:wireshark/rtt.lua -Y rtt):"
"$TSHARK" -r "$CAPTURE" -X "lua_script:$LUA" -Y rtt 2>/dev/null
echo "== open it in Wireshark with the dissector installed (see wireshark/README.md):"
echo "   wireshark $CAPTURE"
