/**
 * Every error the pool throws on purpose is a `PoolError` with a string `code`, so callers
 * branch on `err.code` rather than on message text.
 */
export class PoolError extends Error {
  readonly code: string = 'RTT_ERR_POOL';
  override name = 'PoolError';
}

/** The running Node.js cannot move an accepted socket to a worker thread. */
export class SocketTransferUnsupportedError extends PoolError {
  override readonly code = 'RTT_ERR_SOCKET_TRANSFER_UNSUPPORTED';
  override name = 'SocketTransferUnsupportedError';
}

/** `adopt()` or `run()` was called after `close()` began. */
export class PoolClosedError extends PoolError {
  override readonly code = 'RTT_ERR_POOL_CLOSED';
  override name = 'PoolClosedError';
}

/** `run()` was called on a pool that was created without a `task` module. */
export class NoTaskModuleError extends PoolError {
  override readonly code = 'RTT_ERR_NO_TASK_MODULE';
  override name = 'NoTaskModuleError';
}

/** A compute task threw (or its thread died); the original error is the `cause`. */
export class TaskFailedError extends PoolError {
  override readonly code = 'RTT_ERR_TASK_FAILED';
  override name = 'TaskFailedError';
}
