import { SocketTransferUnsupportedError } from './errors.ts';

/** The first Node.js release whose `postMessage` can move a `net.Socket` to a worker thread. */
export const SOCKET_TRANSFER_MIN_NODE = '26.6.0';

/**
 * Whether a Node.js version string can transfer TCP sockets between threads.
 *
 * @example
 * supportsSocketTransfer('26.6.0'); // true
 * supportsSocketTransfer('20.20.2'); // false
 */
export function supportsSocketTransfer(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  const [needMajor = 0, needMinor = 0] = SOCKET_TRANSFER_MIN_NODE.split('.').map(Number);
  return major > needMajor || (major === needMajor && minor >= needMinor);
}

/**
 * Throws one clear error, naming the version needed, when sockets cannot be moved.
 *
 * @example
 * assertSocketTransfer(); // throws on Node 20: "needs Node.js >= 26.6.0 ..."
 */
export function assertSocketTransfer(version: string = process.versions.node): void {
  if (!supportsSocketTransfer(version)) {
    throw new SocketTransferUnsupportedError(
      `@rtt/pool needs Node.js >= ${SOCKET_TRANSFER_MIN_NODE} to move sockets to worker threads; this is Node.js ${version}`,
    );
  }
}
