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
}: LoggerOptions = {}): Log {
  winston.addColors(COLORS);
  const text = winston.format.printf((info) => {
    const line = `${LOG_ICONS[info.level as LogLevel] ?? ''} ${String(info.message)}`;
    return colors ? winston.format.colorize().colorize(info.level, line) : line;
  });
  const logger = winston.createLogger({
    levels: LOG_LEVELS,
    level,
    format:
      format === 'json'
        ? winston.format.combine(winston.format.timestamp(), winston.format.json())
        : text,
    transports: [new winston.transports.Console({ stderrLevels: [] })],
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
        if (process.stdout.writableNeedDrain) process.stdout.once('drain', () => resolve());
        else resolve();
      }),
  };
}
