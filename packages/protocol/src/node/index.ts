/**
 * `@rtt/protocol/node`: the Node adapter that binds the framed protocol to a `net.Socket`.
 * @module
 */
export { FramedSocket, type FramedSocketOptions } from './framed-socket.ts';
