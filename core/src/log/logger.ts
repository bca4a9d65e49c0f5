/**
 * Logging for a daemon under procd: one line per record on stderr, which procd hands to
 * logd (`procd_set_param stderr 1`), so `logread -e wrtkit` shows it. Each line says the
 * level and the scope (the host or a plugin) first, then the message and key=value pairs.
 */
export const LogLevels = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LogLevels)[number];

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  /** A logger for a narrower scope (e.g. a plugin) writing to the same sink. */
  child(scope: string): Logger;
}

export type LogFields = Record<string, unknown>;

export interface LogRecord {
  level: LogLevel;
  scope: string;
  message: string;
  fields: LogFields | undefined;
}

/** Where records go; the host uses the platform's stderr, tests collect them. */
export type LogSink = (record: LogRecord, line: string) => void;

export function isLogLevel(value: string): value is LogLevel {
  return (LogLevels as readonly string[]).includes(value);
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value instanceof Error) return JSON.stringify(value.message);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function formatRecord(record: LogRecord): string {
  let line = `${record.level} ${record.scope}: ${record.message}`;
  if (record.fields) {
    for (const [key, value] of Object.entries(record.fields)) {
      if (value !== undefined) line += ` ${key}=${formatValue(value)}`;
    }
  }
  return line.replace(/\n/g, '\\n');
}

export class LineLogger implements Logger {
  constructor(
    private readonly sink: LogSink,
    private readonly scope: string,
    private readonly threshold: () => LogLevel,
  ) {}

  error(message: string, fields?: LogFields): void {
    this.log('error', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.log('warn', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.log('info', message, fields);
  }
  debug(message: string, fields?: LogFields): void {
    this.log('debug', message, fields);
  }

  child(scope: string): Logger {
    return new LineLogger(this.sink, scope, this.threshold);
  }

  private log(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (LogLevels.indexOf(level) > LogLevels.indexOf(this.threshold())) return;
    const record: LogRecord = { level, scope: this.scope, message, fields };
    this.sink(record, formatRecord(record));
  }
}

/** A logger whose level can change at run time (config reload). */
export function createLogger(
  sink: LogSink,
  scope = 'wrtkit',
  level: LogLevel = 'info',
): { logger: Logger; setLevel(level: LogLevel): void } {
  let current = level;
  return {
    logger: new LineLogger(sink, scope, () => current),
    setLevel(next) {
      current = next;
    },
  };
}
