/**
 * `@rtt/protocol/node`: rtt connections over Node streams, handshake included. A server
 * serves an accepted socket with {@link serveConnection} and gives only the answers; a client
 * calls {@link connect} and makes requests. {@link StreamTransport} binds any of the core's
 * sessions to a duplex stream (a TLS socket, say), with backpressure.
 * @module
 */
export {
  type ClockReading,
  type CommandInput,
  type ConnectOptions,
  connect,
  type Reply,
  type ReplyCallback,
  RttClient,
} from './client.ts';
export { type ServeConnectionOptions, serveConnection } from './serve.ts';
export {
  type StreamSession,
  StreamTransport,
  type StreamTransportOptions,
} from './stream-transport.ts';
