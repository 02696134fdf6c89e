-- rtt.lua: a Wireshark dissector for rtt (TIME, DATE, TEMP with round-trip times).
--
-- It reads both of rtt's wires, as docs/PROTOCOL.md describes them:
--   * framed v1: two 8-byte hellos ("RTT", version, cipher or status, group or cipher, public
--     key), then frames (u32 length, body) whose bodies are Caesar-encrypted;
--   * the seed wire of the original Python programs: the public keys in decimal digits, then
--     Caesar-encrypted 4-byte commands and bare answers;
-- and framed v1 inside TLS, when Wireshark has the TLS key log.
--
-- The cipher is the lesson. Both public keys travel in clear and the group has 64 elements,
-- so the dissector does what any eavesdropper can: it takes the discrete logarithm of the
-- client's key (at most 64 multiplications), raises the server's key to it, and so holds the
-- Caesar key both sides agreed on. Every request and answer is then shown in clear.
--
-- Install: copy this file into Wireshark's personal Lua plugins folder (Help > About Wireshark >
-- Folders), or run `tshark -X lua_script:rtt.lua`. See wireshark/README.md.

local rtt = Proto("rtt", "rtt (TIME, DATE, TEMP with round-trip times)")

if set_plugin_info then
  set_plugin_info({
    version = "1.0.0",
    description = "rtt's framed and seed wires, decrypted with the key recovered from the handshake",
  })
end

-- The numbers of the wire (packages/protocol/src/constants.ts and @rtt/cipher's SEED_GROUP).
local PRIME, GENERATOR = 257, 11
local MAGIC = "RTT"
local HELLO_SIZE, PREFIX_SIZE = 8, 4
local TLS_RECORD_TYPES = { [0x14] = true, [0x15] = true, [0x16] = true, [0x17] = true }

local CIPHERS = { [0] = "NONE", [1] = "CAESAR" }
local GROUPS = { [1] = "SEED (p = 257, g = 11)" }
local HELLO_STATUSES = {
  [0] = "OK",
  [1] = "UNSUPPORTED_VERSION",
  [2] = "UNSUPPORTED_CIPHER",
  [3] = "UNSUPPORTED_GROUP",
  [4] = "BAD_PUBLIC_KEY",
}
local FRAME_TYPES = { [1] = "REQUEST", [2] = "RESPONSE", [3] = "ERROR" }
local COMMANDS = { [1] = "TIME", [2] = "DATE", [3] = "TEMP", [4] = "PING", [5] = "CLOCK" }
local STATUSES = {
  [0] = "OK",
  [1] = "UNKNOWN_COMMAND",
  [2] = "BAD_REQUEST",
  [3] = "UNAVAILABLE",
  [4] = "INTERNAL_ERROR",
}
local ERRORS = {
  [1] = "FRAME_TOO_LARGE",
  [2] = "MALFORMED_FRAME",
  [3] = "BAD_HELLO",
  [4] = "HANDSHAKE_TIMEOUT",
  [5] = "SHUTTING_DOWN",
  [6] = "TOO_MANY_REKEYS",
  [7] = "INTERNAL",
  [8] = "IDLE_TIMEOUT",
  [9] = "SERVER_BUSY",
}
local SEED_COMMANDS = { TIME = true, DATE = true, TEMP = true }

-- The whole attack is this table. 11 has order 64 modulo 257: the 64 powers of 11 are every
-- public key an honest peer can send, and LOG maps each back to its exponent, which is the
-- sender's private key modulo 64. That is all the private key the shared secret depends on.
local LOG, ORDER = {}, 0
do
  local x = 1
  repeat
    LOG[x] = ORDER
    x = x * GENERATOR % PRIME
    ORDER = ORDER + 1
  until x == 1
end

local function powmod(base, exponent, modulus)
  local result = 1
  base = base % modulus
  while exponent > 0 do
    if exponent % 2 == 1 then result = result * base % modulus end
    base = base * base % modulus
    exponent = math.floor(exponent / 2)
  end
  return result
end

-- The eavesdropper's key: the shared secret from the two public keys alone. Both keys must lie
-- in the subgroup: for a key outside it the secret depends on more of the other side's
-- private key than its own public key gives away, and no single answer exists.
local function recover_key(client_pub, server_pub)
  local a = LOG[client_pub]
  if a == nil or LOG[server_pub] == nil then return nil end
  local shared = powmod(server_pub, a, PRIME)
  return { shared = shared, key = shared % 256, dlog = a }
end

local function is_degenerate(pub)
  return pub == 1 or pub == PRIME - 1
end

local function caesar_decrypt(bytes, key)
  if key == 0 then return bytes end
  local out = {}
  for i = 1, #bytes do
    out[i] = string.char((bytes:byte(i) - key) % 256)
  end
  return table.concat(out)
end

local function printable(text)
  -- For the Info column only: control bytes would garble it; the fields keep the real bytes.
  return (text:gsub("[%z\1-\31\127]", "."))
end

local function quote(text, max)
  max = max or 40
  if #text > max then text = text:sub(1, max) .. "..." end
  return '"' .. printable(text) .. '"'
end

---------------------------------------------------------------------------------------------
-- Fields

local f = {
  wire = ProtoField.string("rtt.wire", "Wire", base.ASCII, "framed, seed"),
  message = ProtoField.string("rtt.message", "Message"),
  tls = ProtoField.bool("rtt.tls", "Inside TLS"),
  -- hellos (framed)
  magic = ProtoField.string("rtt.hello.magic", "Magic"),
  version = ProtoField.uint8("rtt.hello.version", "Version"),
  cipher = ProtoField.uint8("rtt.hello.cipher", "Cipher", base.DEC, CIPHERS),
  group = ProtoField.uint8("rtt.hello.group", "Group", base.DEC, GROUPS),
  hello_status = ProtoField.uint8("rtt.hello.status", "Status", base.DEC, HELLO_STATUSES),
  round = ProtoField.uint8("rtt.hello.round", "Hello round"),
  -- keys (both wires)
  -- u32, not u16: a seed peer may send any number of digits.
  public_key = ProtoField.uint32("rtt.public_key", "Public key"),
  client_public_key = ProtoField.uint32("rtt.client_public_key", "Client's public key"),
  server_public_key = ProtoField.uint32("rtt.server_public_key", "Server's public key"),
  dlog = ProtoField.uint8(
    "rtt.dlog",
    "Discrete log of the client's public key",
    base.DEC,
    nil,
    nil,
    "x with 11^x = client's public key (mod 257): the client's private key modulo 64"
  ),
  shared = ProtoField.uint16("rtt.shared", "Shared secret", base.DEC, nil, nil, "server's key ^ x mod 257"),
  key = ProtoField.uint8("rtt.key", "Caesar key", base.DEC, nil, nil, "shared secret mod 256"),
  key_source = ProtoField.string("rtt.key_source", "Key found by"),
  -- frames (framed)
  length = ProtoField.uint32("rtt.length", "Length"),
  ciphertext = ProtoField.bytes("rtt.ciphertext", "Ciphertext"),
  type = ProtoField.uint8("rtt.type", "Type", base.HEX, FRAME_TYPES),
  request_id = ProtoField.uint32("rtt.request_id", "Request id"),
  command_code = ProtoField.uint8("rtt.command_code", "Command code", base.HEX, COMMANDS),
  command = ProtoField.string("rtt.command", "Command"),
  status_code = ProtoField.uint8("rtt.status_code", "Status code", base.HEX, STATUSES),
  status = ProtoField.string("rtt.status", "Status"),
  error_code = ProtoField.uint8("rtt.error_code", "Error code", base.DEC, ERRORS),
  error = ProtoField.string("rtt.error", "Error"),
  payload = ProtoField.bytes("rtt.payload", "Payload"),
  plaintext = ProtoField.string("rtt.plaintext", "Plaintext", base.UNICODE),
  -- request/answer matching (both wires)
  response_in = ProtoField.framenum("rtt.response_in", "Answer in", base.NONE, frametype.RESPONSE),
  request_in = ProtoField.framenum("rtt.request_in", "Request in", base.NONE, frametype.REQUEST),
  time = ProtoField.relative_time("rtt.time", "Round-trip time", "from the request to its answer"),
}
rtt.fields = f

local e = {
  key_recovered = ProtoExpert.new(
    "rtt.key_recovered",
    "Caesar key recovered by an eavesdropper",
    expert.group.SECURITY,
    expert.severity.NOTE
  ),
  inside_tls = ProtoExpert.new(
    "rtt.inside_tls",
    "Cipher NONE inside TLS: TLS alone protects the frames",
    expert.group.SECURITY,
    expert.severity.CHAT
  ),
  weak_key = ProtoExpert.new(
    "rtt.weak_key",
    "Weak key: the shared secret is 256, Caesar key 0",
    expert.group.SECURITY,
    expert.severity.WARN
  ),
  clear_text = ProtoExpert.new(
    "rtt.clear_text",
    "Sent in clear (Caesar key 0)",
    expert.group.SECURITY,
    expert.severity.WARN
  ),
  weak_public_key = ProtoExpert.new(
    "rtt.weak_public_key",
    "Degenerate public key",
    expert.group.SECURITY,
    expert.severity.WARN
  ),
  bad_public_key = ProtoExpert.new(
    "rtt.bad_public_key",
    "Public key outside the group",
    expert.group.PROTOCOL,
    expert.severity.WARN
  ),
  hello_refused = ProtoExpert.new(
    "rtt.hello_refused",
    "Hello refused",
    expert.group.RESPONSE_CODE,
    expert.severity.WARN
  ),
  error_frame = ProtoExpert.new(
    "rtt.error_frame",
    "ERROR frame: the server closes the connection",
    expert.group.RESPONSE_CODE,
    expert.severity.WARN
  ),
  status = ProtoExpert.new(
    "rtt.status_not_ok",
    "Answer with a status other than OK",
    expert.group.RESPONSE_CODE,
    expert.severity.NOTE
  ),
  malformed = ProtoExpert.new("rtt.malformed", "Malformed", expert.group.MALFORMED, expert.severity.ERROR),
  no_key = ProtoExpert.new(
    "rtt.no_key",
    "No key known: the handshake was not captured",
    expert.group.UNDECODED,
    expert.severity.NOTE
  ),
  no_answer = ProtoExpert.new(
    "rtt.unanswered",
    "Answer to no pending request",
    expert.group.SEQUENCE,
    expert.severity.NOTE
  ),
}
rtt.experts = e

rtt.prefs.ports = Pref.range(
  "Ports",
  "7777",
  "TCP ports read as rtt whatever the first bytes (the seed wire has no magic): the framed "
    .. "wire is also found on any port by its hello, the seed wire by its first public key",
  65535
)
rtt.prefs.seed_heuristic = Pref.bool(
  "Find the seed wire on any port",
  true,
  "Take a connection whose first bytes are a public key of the group in decimal digits for the seed wire"
)
rtt.prefs.max_frame = Pref.uint(
  "Largest frame body",
  65536,
  "A length prefix above this is malformed (the protocol's default maximum)"
)

---------------------------------------------------------------------------------------------
-- Per-connection state, built on the first pass over the capture and only read afterwards:
-- Wireshark dissects a packet again whenever it is shown, in any order.

local tcp_stream_field = Field.new("tcp.stream")
local tcp_seq_field = Field.new("tcp.seq")

local streams = {}

function rtt.init()
  streams = {}
end

local function endpoint(address, port)
  return tostring(address) .. ":" .. tostring(port)
end

local function stream_state(pinfo)
  local stream = tcp_stream_field()
  local id
  if stream then
    id = "tcp" .. tostring(stream.value)
  else
    local a, b = endpoint(pinfo.src, pinfo.src_port), endpoint(pinfo.dst, pinfo.dst_port)
    id = a < b and a .. "|" .. b or b .. "|" .. a
  end
  local st = streams[id]
  if st == nil then
    st = {
      rounds = {}, -- framed: one per ServerHello, { frame, client_pub, server_pub, status, cipher, key, ... }
      hellos = {}, -- framed: "frame/c" or "frame/s" -> the round a hello belongs to
      pending = {}, -- framed: request id -> request; seed: FIFO of commands sent
      matched = {}, -- "frame/id" -> request record, for requests and answers alike
      records = {}, -- seed: frame -> what the segment holds
    }
    streams[id] = st
  end
  return st
end

-- Whether a port is in the "Ports" preference, e.g. "7777" or "7000-7010,8000".
local function in_port_range(port)
  for item in tostring(rtt.prefs.ports):gmatch("[^,%s]+") do
    local low, high = item:match("^(%d+)%-(%d+)$")
    low = tonumber(low or item)
    high = tonumber(high or item)
    if low and high and port >= low and port <= high then return true end
  end
  return false
end

-- Which side is the client: the one whose port is not among ours, else whoever speaks first.
local function learn_client(st, pinfo, first_byte)
  if st.client then return end
  local src, dst = endpoint(pinfo.src, pinfo.src_port), endpoint(pinfo.dst, pinfo.dst_port)
  local src_ours, dst_ours = in_port_range(pinfo.src_port), in_port_range(pinfo.dst_port)
  if src_ours and not dst_ours then
    st.client = dst
  elseif dst_ours and not src_ours then
    st.client = src
  elseif first_byte == 0 then
    -- An ERROR frame in place of a ServerHello: a framed stream's first bytes from the server.
    st.client = dst
  else
    st.client = src
  end
end

local function from_client(st, pinfo)
  return endpoint(pinfo.src, pinfo.src_port) == st.client
end

local function time_between(request, pinfo)
  local seconds = tonumber(tostring(pinfo.rel_ts)) - request.time
  if seconds < 0 then seconds = 0 end
  local whole = math.floor(seconds)
  return NSTime.new(whole, math.floor((seconds - whole) * 1e9 + 0.5))
end

local function add_generated(tree, field, value)
  local item = tree:add(field, value)
  item:set_generated()
  return item
end

local function add_key_fields(tree, info)
  add_generated(tree, f.key, info.key)
  if info.source then add_generated(tree, f.key_source, info.source) end
end

---------------------------------------------------------------------------------------------
-- The framed wire

-- The key that protects the bodies of a frame sent in packet `number`: that of the last
-- ServerHello before it. A connection re-keys only while the keys are weak, so once a
-- strong key is agreed it holds to the end.
local function framed_key(st, number)
  for i = #st.rounds, 1, -1 do
    local round = st.rounds[i]
    if round.frame <= number then
      if round.status ~= 0 then return { key = 0, clear = true } end
      if round.cipher == 0 then return { key = 0, none = true, source = "cipher NONE" } end
      if round.key == nil then return nil end
      return { key = round.key, source = round.source, weak = round.key == 0 }
    end
  end
  if st.saw_client_hello then
    -- An ERROR frame in place of the ServerHello: no key has been agreed, so it is in clear.
    return { key = 0, clear = true }
  end
  return st.plain_key
end

local function dissect_hello(tvb, pinfo, tree, st, parts, in_tls)
  local client = from_client(st, pinfo)
  local name = client and "ClientHello" or "ServerHello"
  local sub = tree:add(rtt, tvb(), "rtt " .. name)
  sub:add(f.wire, "framed"):set_generated()
  if in_tls then sub:add(f.tls, true):set_generated() end
  sub:add(f.message, name):set_generated()
  sub:add(f.magic, tvb(0, 3))
  sub:add(f.version, tvb(3, 1))
  local pub = tvb(6, 2):uint()
  local number = pinfo.number
  if client then
    local cipher, group = tvb(4, 1):uint(), tvb(5, 1):uint()
    sub:add(f.cipher, tvb(4, 1))
    sub:add(f.group, tvb(5, 1))
    sub:add(f.public_key, tvb(6, 2))
    sub:add(f.client_public_key, tvb(6, 2)):set_hidden()
    if not pinfo.visited then
      st.saw_client_hello = true
      st.next_client = { frame = number, pub = pub, cipher = cipher, group = group }
      st.hellos[number .. "/c"] = #st.rounds + 1
    end
    local round = st.hellos[number .. "/c"]
    if round then add_generated(sub, f.round, round) end
    if group == 1 and LOG[pub] == nil then
      sub:add_proto_expert_info(e.bad_public_key, "Public key " .. pub .. " is not a power of 11 modulo 257")
    elseif group == 1 and is_degenerate(pub) then
      sub:add_proto_expert_info(e.weak_public_key, "Public key " .. pub .. " confines the shared secret to {1, 256}")
    end
    if cipher == 0 and not in_tls then
      sub:add_proto_expert_info(e.clear_text, "Cipher NONE over plain TCP: every frame would be in clear")
    end
    table.insert(parts, "ClientHello " .. (CIPHERS[cipher] or cipher) .. " public key " .. pub)
    return
  end

  local status, cipher = tvb(4, 1):uint(), tvb(5, 1):uint()
  sub:add(f.hello_status, tvb(4, 1))
  sub:add(f.cipher, tvb(5, 1))
  sub:add(f.public_key, tvb(6, 2))
  sub:add(f.server_public_key, tvb(6, 2)):set_hidden()
  if not pinfo.visited then
    local hello = st.next_client or {}
    st.next_client = nil
    local round = { frame = number, status = status, cipher = cipher, server_pub = pub, client_pub = hello.pub }
    if status == 0 and cipher ~= 0 and hello.pub then
      local found = recover_key(hello.pub, pub)
      if found then
        round.key, round.shared, round.dlog = found.key, found.shared, found.dlog
        round.source = "discrete log of the public keys"
      end
    end
    table.insert(st.rounds, round)
    st.hellos[number .. "/s"] = #st.rounds
  end
  local index = st.hellos[number .. "/s"]
  local round = index and st.rounds[index]
  if index then add_generated(sub, f.round, index) end
  local text = "ServerHello " .. (HELLO_STATUSES[status] or status)
  if status ~= 0 then
    sub:add_proto_expert_info(e.hello_refused, "Hello refused: " .. (HELLO_STATUSES[status] or status))
  elseif round and round.client_pub then
    add_generated(sub, f.client_public_key, round.client_pub)
    if cipher == 0 then
      add_key_fields(sub, { key = 0, source = "cipher NONE" })
      text = text .. " NONE"
      if in_tls then sub:add_proto_expert_info(e.inside_tls) end
    elseif round.key then
      add_generated(sub, f.dlog, round.dlog)
      add_generated(sub, f.shared, round.shared)
      add_key_fields(sub, round)
      if round.key == 0 then
        sub:add_proto_expert_info(e.weak_key, "Weak key: shared secret 256 gives Caesar key 0, so both sides re-key")
        text = text .. ", key 0: weak, re-key"
      else
        sub:add_proto_expert_info(
          e.key_recovered,
          string.format(
            "Caesar key %d: 11^%d = %d, and %d^%d mod 257 = %d (discrete log in a group of 64)",
            round.key,
            round.dlog,
            round.client_pub,
            pub,
            round.dlog,
            round.shared
          )
        )
        text = text .. ", key " .. round.key
      end
    else
      sub:add_proto_expert_info(e.bad_public_key, "A public key outside the group: no key from the handshake")
    end
  end
  table.insert(parts, text)
end

local function dissect_frame(tvb, pinfo, tree, st, parts, in_tls)
  local length = tvb(0, 4):uint()
  local client = from_client(st, pinfo)
  local number = pinfo.number
  local sub = tree:add(rtt, tvb(), "rtt frame")
  sub:add(f.wire, "framed"):set_generated()
  if in_tls then sub:add(f.tls, true):set_generated() end
  sub:add(f.length, tvb(0, 4))
  local body = tvb(4, length)
  sub:add(f.ciphertext, body)

  if not pinfo.visited and st.plain_key == nil and not st.saw_client_hello then
    -- No handshake in the capture: every body starts with its type byte, REQUEST (1) from
    -- the client and RESPONSE (2) from the server, a known plaintext that gives the key away.
    local first = body:range(0, 1):uint()
    local key = (first - (client and 1 or 2)) % 256
    st.plain_key = { key = key, source = "known plaintext (the type byte)" }
  end
  local keyinfo = framed_key(st, number)
  if keyinfo == nil then
    sub:add_proto_expert_info(e.no_key)
    sub:set_text("rtt frame, encrypted, no key")
    table.insert(parts, "Frame (encrypted, no key)")
    return
  end
  local plain = caesar_decrypt(body:raw(), keyinfo.key)
  local dtvb = keyinfo.key == 0 and body:tvb()
    or ByteArray.new(plain, true):tvb("Decrypted (Caesar key " .. keyinfo.key .. ")")
  add_key_fields(sub, keyinfo)
  if keyinfo.clear and not in_tls then
    sub:add_proto_expert_info(e.clear_text, "No key in force: this frame is in clear")
  elseif keyinfo.none and not in_tls then
    sub:add_proto_expert_info(e.clear_text, "Cipher NONE over plain TCP: this frame is in clear")
  elseif keyinfo.weak then
    sub:add_proto_expert_info(e.clear_text, "Caesar key 0: this frame is in clear")
  elseif keyinfo.source and keyinfo.source:find("known plaintext") then
    sub:add_proto_expert_info(e.key_recovered, "Caesar key " .. keyinfo.key .. " from the first byte of a frame")
  end

  local frame_type = dtvb(0, 1):uint()
  local name = FRAME_TYPES[frame_type]
  sub:add(f.type, dtvb(0, 1))
  if name then sub:add(f.message, name):set_generated() end
  local dlen = dtvb:len()
  local function malformed(text)
    sub:add_proto_expert_info(e.malformed, text)
    table.insert(parts, "Malformed frame")
  end

  if frame_type == 1 or frame_type == 2 then
    if dlen < 6 then return malformed(name .. " body shorter than 6 bytes") end
    local id = dtvb(1, 4):uint()
    local code = dtvb(5, 1):uint()
    local payload = dlen > 6 and dtvb(6, dlen - 6) or nil
    local text = payload and payload:raw() or ""
    sub:add(f.request_id, dtvb(1, 4))
    local slot = number .. "/" .. id
    if frame_type == 1 then
      local command = COMMANDS[code] or string.format("0x%02x", code)
      sub:add(f.command_code, dtvb(5, 1))
      sub:add(f.command, dtvb(5, 1), command)
      if payload then sub:add(f.payload, payload) end
      local plaintext = text == "" and command or command .. " " .. text
      sub:add(f.plaintext, dtvb(5, dlen - 5), plaintext)
      if not pinfo.visited then
        local request = { frame = number, time = tonumber(tostring(pinfo.rel_ts)), command = command }
        st.pending[id] = request
        st.matched[slot] = request
      end
      local request = st.matched[slot]
      if request and request.answer then add_generated(sub, f.response_in, request.answer) end
      sub:set_text(string.format("rtt REQUEST %d %s", id, command))
      table.insert(parts, string.format("REQUEST %d %s%s", id, command, payload and " " .. quote(text) or ""))
    else
      local status = STATUSES[code] or string.format("0x%02x", code)
      if not pinfo.visited then
        local request = st.pending[id]
        if request then
          st.pending[id] = nil
          request.answer = number
          st.matched[slot] = request
        end
      end
      local request = st.matched[slot]
      if request then add_generated(sub, f.command, request.command) end
      sub:add(f.status_code, dtvb(5, 1))
      sub:add(f.status, dtvb(5, 1), status)
      if payload then
        sub:add(f.payload, payload)
        sub:add(f.plaintext, payload, text)
      else
        add_generated(sub, f.plaintext, "")
      end
      if code ~= 0 then sub:add_proto_expert_info(e.status, "Status " .. status .. ": " .. text) end
      if request then
        add_generated(sub, f.request_in, request.frame)
        add_generated(sub, f.time, time_between(request, pinfo))
      else
        sub:add_proto_expert_info(e.no_answer, "No request with id " .. id .. " is pending")
      end
      local what = request and request.command .. " " or ""
      sub:set_text(string.format("rtt RESPONSE %d %s%s", id, what, status))
      table.insert(parts, string.format("RESPONSE %d %s%s %s", id, what, status, quote(text)))
    end
  elseif frame_type == 3 then
    if dlen < 2 then return malformed("ERROR body shorter than 2 bytes") end
    local code = dtvb(1, 1):uint()
    local error_name = ERRORS[code] or tostring(code)
    local text = dlen > 2 and dtvb(2, dlen - 2):raw() or ""
    sub:add(f.error_code, dtvb(1, 1))
    sub:add(f.error, dtvb(1, 1), error_name)
    if dlen > 2 then
      sub:add(f.plaintext, dtvb(2, dlen - 2), text)
    else
      add_generated(sub, f.plaintext, "")
    end
    sub:add_proto_expert_info(e.error_frame, "ERROR " .. error_name .. ": " .. text)
    sub:set_text("rtt ERROR " .. error_name)
    table.insert(parts, "ERROR " .. error_name .. " " .. quote(text))
  else
    return malformed(string.format("Unknown frame type 0x%02x", frame_type))
  end
end

-- Splits a TCP (or TLS) payload into hellos and frames, asking for more segments when one is
-- cut short, so that neither a frame split across segments nor several frames in one matter.
local function dissect_framed(tvb, pinfo, tree, st, parts, in_tls)
  local offset, total = 0, tvb:len()
  local max_frame = rtt.prefs.max_frame
  while offset < total do
    local available = total - offset
    local size
    if tvb(offset, 1):uint() == 0x52 then
      size = HELLO_SIZE
    elseif available < PREFIX_SIZE then
      size = PREFIX_SIZE
    else
      local length = tvb(offset, PREFIX_SIZE):uint()
      if length == 0 or length > max_frame then
        -- Nothing after a bad length can be framed again: the peer closes the connection.
        local sub = tree:add(rtt, tvb(offset), "rtt frame, bad length")
        sub:add(f.wire, "framed"):set_generated()
        sub:add(f.length, tvb(offset, PREFIX_SIZE))
        sub:add_proto_expert_info(
          e.malformed,
          length == 0 and "Length 0 (MALFORMED_FRAME)" or "Length " .. length .. " over the maximum (FRAME_TOO_LARGE)"
        )
        table.insert(parts, "Bad frame length " .. length)
        return total
      end
      size = PREFIX_SIZE + length
    end
    if available < size then
      if pinfo.can_desegment > 0 then
        pinfo.desegment_offset = offset
        pinfo.desegment_len = size - available
        return total
      end
      local sub = tree:add(rtt, tvb(offset), "rtt, incomplete")
      sub:add_proto_expert_info(e.malformed, "Cut short: " .. available .. " of " .. size .. " bytes")
      table.insert(parts, "Incomplete")
      return total
    end
    local pdu = tvb(offset, size):tvb()
    if size == HELLO_SIZE and tvb(offset, 1):uint() == 0x52 then
      dissect_hello(pdu, pinfo, tree, st, parts, in_tls)
    else
      dissect_frame(pdu, pinfo, tree, st, parts, in_tls)
    end
    offset = offset + size
  end
  return total
end

---------------------------------------------------------------------------------------------
-- The seed wire: no framing, so each segment is read against what came before it.

local function all_digits(bytes)
  return #bytes > 0 and bytes:find("^%d+$") ~= nil
end

-- The answer shapes of our server and of the original, for telling joined answers apart.
local function answer_length(command, text)
  local matched
  if command == "TIME" then
    matched = text:match("^%d%d:%d%d:%d%d%.%d%d%d%d%d%d")
  elseif command == "DATE" then
    matched = text:match("^%d%d%d%d%-%d%d%-%d%d")
  elseif command == "TEMP" then
    matched = text:match("^%-?%d+%.?%d*\194\176C")
    if matched and text:sub(#matched + 1, #matched + 12) == " (simulated)" then
      matched = matched .. " (simulated)"
    end
  end
  if matched == nil then
    matched = text:match('^ERROR unknown command "[^"]*"') or text:match("^ERROR [%w ]+")
  end
  return matched and #matched or nil
end

-- First pass only: what one segment says, given everything before it.
local function seed_record(tvb, pinfo, st)
  local bytes = tvb:raw()
  local client = from_client(st, pinfo)
  local record = { items = {} }
  if st.phase == nil then st.phase = "client key" end
  if st.phase == "client key" and not client then st.phase = "server key" end
  if st.phase == "server key" and client then st.phase = "talk" end

  if st.phase == "client key" or st.phase == "server key" then
    record.kind = st.phase
    if not all_digits(bytes) then
      record.malformed = "A seed public key is decimal digits only"
      return record
    end
    if #((client and st.client_digits or st.server_digits) or "") + #bytes > 9 then
      record.malformed = "A seed public key of more than 9 digits (the group's have at most 3)"
      return record
    end
    if st.phase == "client key" then
      st.client_digits = (st.client_digits or "") .. bytes
    else
      st.server_digits = (st.server_digits or "") .. bytes
      local found = recover_key(tonumber(st.client_digits or ""), tonumber(st.server_digits))
      if found then
        found.source = "discrete log of the public keys"
        found.client_pub, found.server_pub = tonumber(st.client_digits), tonumber(st.server_digits)
        st.key = found
      else
        st.key = nil
      end
      record.key = st.key
      record.client_pub = tonumber(st.client_digits or "")
    end
    record.value = tonumber((client and st.client_digits or st.server_digits) or bytes)
    return record
  end

  record.kind = client and "commands" or "answers"
  if st.key == nil and client and #bytes >= 4 then
    -- No usable handshake: every seed command is TIME, DATE or TEMP, so the first byte is a
    -- shifted T or D; a key that turns the first four bytes into a command is the key.
    for _, letter in ipairs({ "T", "D" }) do
      local key = (bytes:byte(1) - letter:byte()) % 256
      if SEED_COMMANDS[caesar_decrypt(bytes:sub(1, 4), key)] then
        st.key = { key = key, source = "known plaintext (the command)" }
        break
      end
    end
  end
  record.key = st.key
  if st.key == nil then return record end
  local plain = caesar_decrypt(bytes, st.key.key)
  local now = tonumber(tostring(pinfo.rel_ts))
  if client then
    local held = st.held or ""
    local text = held .. plain
    local start = 1 - #held -- where `text` starts, in this segment's bytes
    local i = 1
    while i <= #text do
      local space = text:match("^%s+", i)
      if space then
        i = i + #space
      elseif #text - i + 1 < 4 then
        break
      else
        local command = text:sub(i, i + 3)
        local request = st.held_request or { frame = pinfo.number, time = now }
        st.held_request = nil
        request.command = command:upper()
        table.insert(st.pending, request)
        local first = math.max(start + i - 1, 1)
        local last = start + i + 2
        table.insert(record.items, {
          offset = first - 1,
          length = last - first + 1,
          text = command,
          request = request,
        })
        i = i + 4
      end
    end
    st.held = text:sub(i)
    if #st.held > 0 then
      -- A command still arriving: the server waits a moment for the rest (SEED_QUIET_MS),
      -- then takes what it has. Which of the two happened shows in what comes next.
      st.held_request = st.held_request or { frame = pinfo.number, time = now }
      local first = math.max(start + i - 1, 1)
      table.insert(record.items, {
        offset = first - 1,
        length = #bytes - first + 1,
        text = st.held,
        request = st.held_request,
        partial = true,
      })
    end
  else
    if #st.pending == 0 and st.held_request then
      -- An answer while a command was still arriving: the server stopped waiting and answered
      -- the letters it had as a command of their own.
      st.held_request.command = st.held:upper():gsub("%s", "")
      table.insert(st.pending, st.held_request)
      st.held, st.held_request = "", nil
    end
    local i = 1
    while i <= #plain do
      local request = table.remove(st.pending, 1)
      local rest = plain:sub(i)
      local length = #rest
      if request and #st.pending > 0 then length = answer_length(request.command, rest) or #rest end
      local item = { offset = i - 1, length = length, text = rest:sub(1, length), request = request }
      if request then
        request.answer = pinfo.number
        item.rtt = now - request.time
      end
      table.insert(record.items, item)
      i = i + length
    end
  end
  return record
end

local function seed_tree(tree, range, text)
  local sub = tree:add(rtt, range, "rtt seed wire, " .. text)
  sub:add(f.wire, "seed"):set_generated()
  return sub
end

local function add_seed_key(sub, key)
  add_key_fields(sub, key)
  if key.key == 0 then
    sub:add_proto_expert_info(e.clear_text, "Caesar key 0: in clear")
  elseif key.source and key.source:find("known plaintext") then
    sub:add_proto_expert_info(e.key_recovered, "Caesar key " .. key.key .. " from the first command")
  end
end

-- One rtt tree per public key, command or answer, as the framed wire has one per frame.
local function dissect_seed(tvb, pinfo, tree, st, parts)
  local number = pinfo.number
  if not pinfo.visited then st.records[number] = seed_record(tvb, pinfo, st) end
  local record = st.records[number]
  if record == nil then return 0 end
  local client = from_client(st, pinfo)
  if record.malformed then
    local sub = seed_tree(tree, tvb(), "malformed")
    sub:add_proto_expert_info(e.malformed, record.malformed)
    table.insert(parts, "Malformed")
    return tvb:len()
  end

  if record.kind == "client key" or record.kind == "server key" then
    local label = client and "client's public key" or "server's public key"
    local sub = seed_tree(tree, tvb(), label .. " " .. tostring(record.value))
    sub:add(f.message, "public key"):set_generated()
    sub:add(f.public_key, tvb(), record.value):append_text(" (decimal digits)")
    sub:add(client and f.client_public_key or f.server_public_key, tvb(), record.value):set_hidden()
    if record.value and LOG[record.value] == nil then
      sub:add_proto_expert_info(e.bad_public_key, "Public key " .. record.value .. " is not a power of 11 modulo 257")
    elseif record.value and is_degenerate(record.value) then
      sub:add_proto_expert_info(
        e.weak_public_key,
        "Public key " .. record.value .. " confines the shared secret to {1, 256}, whatever the other side's key"
      )
    end
    local text = (client and "Client's" or "Server's") .. " public key " .. tostring(record.value)
    if record.kind == "server key" and record.key then
      local k = record.key
      add_generated(sub, f.client_public_key, k.client_pub)
      add_generated(sub, f.dlog, k.dlog)
      add_generated(sub, f.shared, k.shared)
      add_key_fields(sub, k)
      if k.key == 0 then
        sub:add_proto_expert_info(
          e.clear_text,
          "Shared secret 256 gives Caesar key 0: the seed wire cannot re-key, the whole session is in clear"
        )
      else
        sub:add_proto_expert_info(
          e.key_recovered,
          string.format(
            "Caesar key %d: 11^%d = %d, and %d^%d mod 257 = %d (discrete log in a group of 64)",
            k.key,
            k.dlog,
            k.client_pub,
            k.server_pub,
            k.dlog,
            k.shared
          )
        )
      end
      text = text .. ", key " .. k.key
    elseif record.kind == "server key" then
      sub:add_proto_expert_info(e.no_key, "No key from these public keys")
    end
    table.insert(parts, text)
    return tvb:len()
  end

  if record.key == nil then
    local sub = seed_tree(tree, tvb(), "encrypted")
    sub:add(f.ciphertext, tvb())
    sub:add_proto_expert_info(e.no_key)
    table.insert(parts, client and "Command (encrypted, no key)" or "Answer (encrypted, no key)")
    return tvb:len()
  end
  local key = record.key
  local plain = caesar_decrypt(tvb:raw(), key.key)
  local dtvb = key.key == 0 and tvb or ByteArray.new(plain, true):tvb("Decrypted (Caesar key " .. key.key .. ")")
  local texts = {}
  for _, item in ipairs(record.items) do
    local range = item.length > 0 and tvb(item.offset, item.length) or tvb(0, 0)
    local clear = item.length > 0 and dtvb(item.offset, item.length) or nil
    local request = item.request
    if client then
      -- A part of a command shows the command once it is known (when shown again).
      local command = item.partial and request.command or item.text:upper()
      local sub = seed_tree(tree, range, "command " .. (command or "(still arriving)"))
      sub:add(f.message, "command"):set_generated()
      sub:add(f.ciphertext, range)
      add_seed_key(sub, key)
      if command and item.partial then
        add_generated(sub, f.command, command)
      elseif command then
        sub:add(f.command, clear, command)
      end
      sub:add(f.plaintext, clear, item.partial and clear:raw() or item.text)
      if request and request.answer then add_generated(sub, f.response_in, request.answer) end
      table.insert(texts, "Command " .. (command or quote(clear:raw()) .. " (still arriving)"))
    else
      local sub = seed_tree(tree, range, "answer" .. (request and " to " .. request.command or ""))
      sub:add(f.message, "answer"):set_generated()
      sub:add(f.ciphertext, range)
      add_seed_key(sub, key)
      if request then add_generated(sub, f.command, request.command) end
      if clear then
        sub:add(f.plaintext, clear, item.text)
      else
        add_generated(sub, f.plaintext, "")
      end
      if request then
        add_generated(sub, f.request_in, request.frame)
        local seconds = item.rtt or 0
        local whole = math.floor(seconds)
        add_generated(sub, f.time, NSTime.new(whole, math.floor((seconds - whole) * 1e9 + 0.5)))
      else
        sub:add_proto_expert_info(e.no_answer, "No command is waiting for this answer")
      end
      table.insert(texts, "Answer " .. (request and request.command .. " " or "") .. quote(item.text))
    end
  end
  if #texts == 0 then
    local sub = seed_tree(tree, tvb(), client and "part of a command" or "answer")
    sub:add(f.ciphertext, tvb())
    texts[1] = client and "Part of a command" or "Answer"
  end
  table.insert(parts, table.concat(texts, ", "))
  return tvb:len()
end

---------------------------------------------------------------------------------------------
-- Entry points

local tls_dissector = Dissector.get("tls")
local calling_tls = false

local function finish(pinfo, parts, in_tls)
  if #parts == 0 then return end
  pinfo.cols.protocol = "RTT"
  local text = table.concat(parts, ", ")
  if in_tls then
    pinfo.cols.info:append(": " .. text)
  else
    pinfo.cols.info = text
  end
end

-- Decides once per connection (on its first payload) which wire it speaks.
local function choose_wire(tvb, st, pinfo)
  if st.wire ~= nil or pinfo.visited then return end
  local first = tvb(0, 1):uint()
  learn_client(st, pinfo, first)
  if first == 0x52 or first == 0 then
    st.wire = "framed"
  elseif first >= 0x30 and first <= 0x39 then
    st.wire = "seed"
  elseif TLS_RECORD_TYPES[first] then
    st.wire = "tls"
  else
    -- Only the seed wire has no fixed first byte once under way: a capture that starts in
    -- the middle of a seed session sees encrypted commands first.
    st.wire = "seed"
    st.phase = "talk"
  end
end

local function dissect(tvb, pinfo, tree, in_tls)
  if tvb:len() == 0 then return 0 end
  local st = stream_state(pinfo)
  local parts = {}
  if in_tls then
    if not pinfo.visited and st.wire_in_tls == nil then
      st.wire_in_tls = "framed"
      learn_client(st, pinfo, tvb(0, 1):uint())
    end
    local consumed = dissect_framed(tvb, pinfo, tree, st, parts, true)
    finish(pinfo, parts, true)
    return consumed
  end
  choose_wire(tvb, st, pinfo)
  if st.wire == "tls" then
    -- TLS on rtt's port, as the server serves it: TLS reads the records, and hands what it
    -- decrypts to the heuristic below.
    calling_tls = true
    local ok, result = pcall(tls_dissector.call, tls_dissector, tvb, pinfo, tree)
    calling_tls = false
    if not ok then error(result) end
    return result
  end
  local consumed
  if st.wire == "framed" then
    consumed = dissect_framed(tvb, pinfo, tree, st, parts, false)
  elseif st.wire == "seed" then
    consumed = dissect_seed(tvb, pinfo, tree, st, parts)
  end
  finish(pinfo, parts, false)
  return consumed
end

local tls_record_field = Field.new("tls.record")

-- Called by TCP (rtt's ports, or a connection a heuristic claimed) with the raw bytes, or by TLS
-- (Decode As: TLS port as rtt) with what TLS decrypted. Raw TLS starts with a record type,
-- the framed wire never does.
function rtt.dissector(tvb, pinfo, tree)
  local in_tls = calling_tls
  if not in_tls and tvb:len() > 0 and tls_record_field() ~= nil then
    in_tls = not TLS_RECORD_TYPES[tvb(0, 1):uint()]
  end
  return dissect(tvb, pinfo, tree, in_tls)
end

-- A connection's first bytes show the framed wire: "RTT", or a shorter prefix of it when the
-- client's first segment is that short (then only at the very start, as one or two letters
-- say little).
local function starts_connection(tvb)
  local seq = tcp_seq_field()
  return seq == nil or seq.value == 1
end

local function heuristic_tcp(tvb, pinfo, tree)
  local length = tvb:len()
  if length == 0 then return false end
  local head = tvb(0, math.min(length, 3)):raw()
  local framed = head == MAGIC or (length < 3 and MAGIC:sub(1, length) == head and starts_connection(tvb))
  local seed = false
  if not framed and rtt.prefs.seed_heuristic and length <= 3 and all_digits(tvb:raw()) then
    local value = tonumber(tvb:raw())
    seed = LOG[value] ~= nil and starts_connection(tvb)
  end
  if not framed and not seed then return false end
  pinfo.conversation = rtt
  dissect(tvb, pinfo, tree, false)
  return true
end

local function heuristic_tls(tvb, pinfo, tree)
  local length = tvb:len()
  if length == 0 then return false end
  local st = stream_state(pinfo)
  if st.wire_in_tls ~= "framed" and tvb(0, math.min(length, 3)):raw() ~= MAGIC then return false end
  dissect(tvb, pinfo, tree, true)
  return true
end

rtt:register_heuristic("tcp", heuristic_tcp)
rtt:register_heuristic("tls", heuristic_tls)

-- Offered in Decode As for TLS ports too, for TLS that the heuristic does not reach.
DissectorTable.get("tls.port"):add_for_decode_as(rtt)

local tcp_ports = DissectorTable.get("tcp.port")
local registered_ports = ""

local function register_ports()
  local ports = rtt.prefs.ports
  if ports == registered_ports then return end
  if registered_ports ~= "" then tcp_ports:remove(registered_ports, rtt) end
  if ports ~= "" then tcp_ports:add(ports, rtt) end
  registered_ports = ports
end

function rtt.prefs_changed()
  register_ports()
end

register_ports()
