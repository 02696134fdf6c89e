import { openSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import winston from 'winston';

/** The seed's levels, most severe first; `success` sits between warning and info. */
export const LOG_LEVELS = { error: 0, warning: 1, success: 2, info: 3, debug: 4 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;

/**
 * One icon per level, as the seed prints them. The warning sign takes an extra space: it is
 * drawn one column wide but followed by a variation selector, and the seed's lines read
 * `⚠️  To close the server press CTRL+C`.
 */
export const LOG_ICONS: Record<LogLevel, string> = {
  error: '🛑',
  warning: '⚠️ ',
  success: '✅',
  info: '💡',
  debug: '🔧',
};

const COLORS: Record<LogLevel, string> = {
  error: 'red',
  warning: 'yellow',
  success: 'green',
  info: 'cyan',
  debug: 'gray',
};

export interface LoggerOptions {
  level?: LogLevel;
  format?: 'text' | 'json';
  /** ANSI colours; only when writing to a terminal. */
  colors?: boolean;
  /** Prefix each text line with its ISO 8601 time (JSON lines always carry a `timestamp`). */
  timestamps?: boolean;
  /** Append to this file instead of writing to stdout. */
  file?: string | undefined;
}

/**
 * Opens a log file for appending and gives a stream that writes each line with one `write(2)`.
 *
 * Why not winston's File transport: every pool thread logs to the same file, and the server
 * exits right after its last line. Appending (`O_APPEND`) with one synchronous write per line
 * keeps the threads' lines whole and in order per thread, and leaves nothing buffered to lose at
 * exit, with no flush to coordinate across threads. Log lines come per connection, not per
 * request, so the synchronous write costs nothing that shows.
 *
 * @throws the `fs` error (ENOENT, EACCES, EISDIR...) when the file cannot be opened.
 * @example
 * const stream = openLogFile('/var/log/rtt-server.log');
 */
export function openLogFile(path: string): Writable {
  const fd = openSync(path, 'a', 0o644);
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      try {
        writeSync(fd, chunk);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}

/** The logger every part of the server uses, in the main thread and in pool threads alike. */
export interface Log {
  error(message: string, meta?: Record<string, unknown>): void;
  warning(message: string, meta?: Record<string, unknown>): void;
  success(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  /** Whether a level is logged, to skip building messages nobody will see. */
  enabled(level: LogLevel): boolean;
  /** Resolves once everything logged so far is written. */
  flush(): Promise<void>;
}

/**
 * Creates the seed-style logger (`💡 Connection open ...`) or, with `format: 'json'`, one JSON
 * object per line for log collectors.
 *
 * @example
 * const log = createLog({ level: 'info' });
 * log.success('Listening on 0.0.0.0 port 7777...'); // ✅ Listening on 0.0.0.0 port 7777...
 */
export function createLog({
  level = 'info',
  format = 'text',
  colors = false,
  timestamps = false,
  file,
}: LoggerOptions = {}): Log {
  winston.addColors(COLORS);
  const text = winston.format.printf((info) => {
    const line = `${LOG_ICONS[info.level as LogLevel] ?? ''} ${String(info.message)}`;
    const shown = colors ? winston.format.colorize().colorize(info.level, line) : line;
    return timestamps ? `${String(info.timestamp)} ${shown}` : shown;
  });
  const logger = winston.createLogger({
    levels: LOG_LEVELS,
    level,
    format:
      format === 'json'
        ? winston.format.combine(winston.format.timestamp(), winston.format.json())
        : timestamps
          ? winston.format.combine(winston.format.timestamp(), text)
          : text,
    transports: [
      file === undefined
        ? new winston.transports.Console({ stderrLevels: [] })
        : new winston.transports.Stream({ stream: openLogFile(file) }),
    ],
  });
  const at =
    (name: LogLevel) =>
    (message: string, meta?: Record<string, unknown>): void => {
      logger.log(name, message, meta);
    };
  return {
    error: at('error'),
    warning: at('warning'),
    success: at('success'),
    info: at('info'),
    debug: at('debug'),
    enabled: (name) => logger.isLevelEnabled(name),
    flush: () =>
      new Promise((resolve) => {
        // The console transport writes synchronously to process.stdout; wait for it to drain.
        // A log file is written synchronously, line by line: nothing is left to wait for.
        if (file === undefined && process.stdout.writableNeedDrain)
          process.stdout.once('drain', () => resolve());
        else resolve();
      }),
  };
}
