import { writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { openAppending } from '@rtt/protocol/node';
import winston from 'winston';
import { formatCount, LineBudget, type RateClock, summaryLine } from './rate-limit.ts';

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
  /** Write here instead of stdout or `file` (tests). */
  stream?: Writable | undefined;
  /** Per-connection lines of each kind written per second before a summary replaces them. */
  perSecond?: number | undefined;
  /** Bytes waiting to be written past which lines are dropped (and counted); default 1 MiB. */
  maxBuffered?: number | undefined;
  /** Time and timers for the per-second budget (tests). */
  clock?: RateClock | undefined;
}

/** Default of {@link LoggerOptions.maxBuffered}. */
export const DEFAULT_MAX_BUFFERED = 1024 * 1024;

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
  // A named pipe nobody reads is refused rather than waited on (see openAppending).
  const fd = openAppending(path, 0o644);
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
  /**
   * A per-connection line: written as usual up to the budget of its `kind` (50 a second by
   * default), past that counted and summed up once a second ("1,234 more connections opened
   * in the last second"). `message` is a function so that lines not written cost nothing.
   */
  event(level: LogLevel, kind: string, message: () => string): void;
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
  stream,
  perSecond,
  maxBuffered = DEFAULT_MAX_BUFFERED,
  clock,
}: LoggerOptions = {}): Log {
  winston.addColors(COLORS);
  const text = winston.format.printf((info) => {
    const line = `${LOG_ICONS[info.level as LogLevel] ?? ''} ${String(info.message)}`;
    const shown = colors ? winston.format.colorize().colorize(info.level, line) : line;
    return timestamps ? `${String(info.timestamp)} ${shown}` : shown;
  });
  const output = stream ?? (file === undefined ? process.stdout : openLogFile(file));
  const logger = winston.createLogger({
    levels: LOG_LEVELS,
    level,
    format:
      format === 'json'
        ? winston.format.combine(winston.format.timestamp(), winston.format.json())
        : timestamps
          ? winston.format.combine(winston.format.timestamp(), text)
          : text,
    transports: [new winston.transports.Stream({ stream: output })],
  });

  // Output nobody reads (a pipe to a stopped reader) must not grow memory without end: in a
  // pool thread every line waits in memory for the main thread to pass it on (measured: RSS
  // 107 -> 622 MiB in 20 s under a flood). Past `maxBuffered` waiting bytes lines are dropped,
  // counted, and the count is told once the output drains.
  let dropped = 0;
  const write = (name: LogLevel, message: string, meta?: Record<string, unknown>): void => {
    if (output.writableLength > maxBuffered) {
      if (dropped === 0) {
        output.once('drain', () => {
          const count = dropped;
          dropped = 0;
          logger.log(
            'warning',
            `${formatCount(count)} log lines dropped: the log output was not being read`,
          );
        });
      }
      dropped += 1;
      return;
    }
    logger.log(name, message, meta);
  };

  const levels = new Map<string, LogLevel>();
  const budget = new LineBudget({
    ...(perSecond === undefined ? {} : { perSecond }),
    ...(clock === undefined ? {} : { clock }),
    report: (suppressed) => {
      // The summary goes at the most severe level among the lines it stands for.
      let worst: LogLevel = 'debug';
      for (const kind of suppressed.keys()) {
        const at = levels.get(kind) ?? 'info';
        if (LOG_LEVELS[at] < LOG_LEVELS[worst]) worst = at;
      }
      write(worst, summaryLine(suppressed));
    },
  });
  // The level is fixed for the logger's life; winston's own check builds its list of
  // transports on every call (two arrays), and `event` runs for each connection.
  const shown = new Set(
    (Object.keys(LOG_LEVELS) as LogLevel[]).filter((name) => logger.isLevelEnabled(name)),
  );
  const at =
    (name: LogLevel) =>
    (message: string, meta?: Record<string, unknown>): void =>
      write(name, message, meta);
  return {
    error: at('error'),
    warning: at('warning'),
    success: at('success'),
    info: at('info'),
    debug: at('debug'),
    event: (name, kind, message) => {
      if (!shown.has(name)) return;
      levels.set(kind, name);
      if (budget.allow(kind)) write(name, message());
    },
    enabled: (name) => shown.has(name),
    flush: () =>
      new Promise((resolve) => {
        budget.flush();
        // Lines to stdout may wait in its buffer; a log file is written synchronously, line
        // by line: nothing is left to wait for.
        if (output.writableNeedDrain) output.once('drain', () => resolve());
        else resolve();
      }),
  };
}
