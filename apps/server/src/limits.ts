import { readFileSync } from 'node:fs';

/** `--max-connections` when the open-file limit cannot be read (not Linux) or has none. */
export const FALLBACK_MAX_CONNECTIONS = 10_000;

/**
 * Descriptors kept back from `--max-connections` for the server itself: Node's own (about 30:
 * the event loops, the standard streams, the listening socket), a few per pool thread, the
 * log file, and the connections being turned away, each of which holds one for up to 3 s.
 */
export const DESCRIPTOR_RESERVE = 128;

/**
 * The process's soft limit on open files (`ulimit -n`), from `/proc/self/limits`; `undefined`
 * where there is no such file (not Linux) or no limit.
 *
 * @example
 * openFileLimit(); // 1024 under the common `ulimit -n 1024`
 */
export function openFileLimit(
  read: () => string = () => readFileSync('/proc/self/limits', 'utf8'),
): number | undefined {
  let limits: string;
  try {
    limits = read();
  } catch {
    return undefined;
  }
  const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];
  const limit = Number(soft);
  return Number.isSafeInteger(limit) && limit > 0 ? limit : undefined;
}

/**
 * The default `--max-connections`: the open-file limit less a reserve for the server's own
 * descriptors (a quarter of a small limit, at most {@link DESCRIPTOR_RESERVE}), so that the
 * server refuses clients with a word before the system refuses it descriptors; without a
 * limit to read, {@link FALLBACK_MAX_CONNECTIONS}.
 *
 * @example
 * defaultMaxConnections(openFileLimit()); // 896 under `ulimit -n 1024`
 * defaultMaxConnections(1024); // 896
 * defaultMaxConnections(undefined); // 10000
 */
export function defaultMaxConnections(limit: number | undefined): number {
  if (limit === undefined) return FALLBACK_MAX_CONNECTIONS;
  return Math.max(1, limit - Math.min(DESCRIPTOR_RESERVE, Math.floor(limit / 4)));
}
