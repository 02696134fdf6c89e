export {
  BadModuleError,
  NoSessionModuleError,
  NoTaskModuleError,
  PoolClosedError,
  PoolError,
  SocketTransferUnsupportedError,
  TaskFailedError,
} from './errors.ts';
export type { PoolOptions, ResolvedPoolOptions } from './options.ts';
export { Placement, type PlacementOptions, type PlacementWorker } from './placement.ts';
export { ConnectionPool, createPool, type PoolStats } from './pool.ts';
export { SOCKET_TRANSFER_MIN_NODE, supportsSocketTransfer } from './runtime.ts';
export {
  type CloseReason,
  defineSession,
  defineTask,
  type SessionControl,
  type SessionHandler,
  type SessionSummary,
  type TaskHandler,
  type ThreadState,
} from './session.ts';
