/**
 * The client's connections, for other tools of this repository (the bench app): our framed
 * protocol and the seed wire behind one `Connection` interface.
 */
export { ClientError, type Connection, openSocket, type Reply, serverGone } from './connection.ts';
export { FramedConnection } from './framed-connection.ts';
export { SeedConnection } from './seed-connection.ts';
