/**
 * `@rtt/protocol/node`: rtt connections over Node streams, handshake included. A server
 * serves an accepted socket with {@link serveConnection} and gives only the answers; a client
 * calls {@link connect} and makes requests; a server that is full turns a client away with
 * {@link refuseConnection}. Either side can speak TLS 1.3 (their `tls` options: the server
 * tells a TLS client by its first byte), {@link certificateFingerprint} names a
 * certificate, and {@link openKeylog} writes the key log Wireshark reads. {@link StreamTransport} binds any of the core's sessions to a duplex stream (a
 * TLS socket, say), with fairness between connections and backpressure.
 * @module
 */
export {
  type ClockReading,
  type CommandInput,
  type ConnectOptions,
  type ConnectTlsOptions,
  connect,
  type Reply,
  type ReplyCallback,
  RttClient,
} from './client.ts';
export { openAppending, openKeylog } from './keylog.ts';
export {
  DEFAULT_REFUSE_WAIT_MS,
  type RefuseConnectionOptions,
  refuseConnection,
} from './refuse.ts';
export { type ServeConnectionOptions, type ServeTlsOptions, serveConnection } from './serve.ts';
export {
  DEFAULT_MAX_BYTES_PER_TURN,
  DEFAULT_MAX_UNSENT_BYTES,
  type StreamSession,
  StreamTransport,
  type StreamTransportOptions,
} from './stream-transport.ts';
export { certificateFingerprint } from './tls.ts';
