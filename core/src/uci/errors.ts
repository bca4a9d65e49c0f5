/**
 * UCI errors. Everything thrown is a WrtkitError with a UCI code; `details.uciErr` keeps
 * libuci's own error number so the CLI emulation prints uci's message and exit code.
 */
import { ErrorCodes, WrtkitError, type ErrorCode } from '../errors.js';

/** libuci's error numbers (enum uci_errors). */
export const UciErr = {
  OK: 0,
  MEM: 1,
  INVAL: 2,
  NOTFOUND: 3,
  IO: 4,
  PARSE: 5,
  DUPLICATE: 6,
  UNKNOWN: 7,
} as const;

const ERROR_STRINGS = [
  'Success',
  'Out of memory',
  'Invalid argument',
  'Entry not found',
  'I/O error',
  'Parse error',
  'Duplicate entry',
  'Unknown error',
];

/** A syntax error in a config file (or a delta / batch line), positioned like libuci does. */
export class UciParseError extends WrtkitError {
  readonly reason: string;
  /** Lines read so far (a last line without newline is not counted, as in libuci). */
  readonly line: number;
  /** Byte offset into the parser's line buffer (UTF-8 bytes). */
  readonly byte: number;

  constructor(reason: string, line: number, byte: number, uciPath?: string) {
    super(ErrorCodes.UCI_PARSE, `Parse error (${reason}) at line ${line}, byte ${byte}`, {
      uciPath,
      details: { reason, line, byte, uciErr: UciErr.PARSE },
    });
    this.name = 'UciParseError';
    this.reason = reason;
    this.line = line;
    this.byte = byte;
  }
}

function make(code: ErrorCode, uciErr: number, message: string, uciPath?: string): WrtkitError {
  return new WrtkitError(code, message, { uciPath, details: { uciErr } });
}

export function uciNotFound(what: string): WrtkitError {
  return make(ErrorCodes.UCI_NOT_FOUND, UciErr.NOTFOUND, `UCI entry not found: ${what}`, what);
}

export function uciInvalid(message: string, uciPath?: string): WrtkitError {
  return make(ErrorCodes.UCI_INVALID_ARGUMENT, UciErr.INVAL, message, uciPath);
}

/** A malformed `config.section.option=value` argument (libuci reports a bare "Parse error"). */
export function uciBadPath(path: string): WrtkitError {
  return make(ErrorCodes.UCI_PARSE, UciErr.PARSE, `invalid UCI path: ${JSON.stringify(path)}`, path);
}

export function uciDuplicate(what: string): WrtkitError {
  return make(ErrorCodes.UCI_INVALID_ARGUMENT, UciErr.DUPLICATE, `duplicate UCI entry: ${what}`, what);
}

/** libuci's error number for anything thrown by this library or the FileSystem. */
export function uciErrorNumber(error: unknown): number {
  if (error instanceof WrtkitError) {
    const n = error.details?.uciErr;
    if (typeof n === 'number') return n;
    switch (error.code) {
      case ErrorCodes.UCI_NOT_FOUND:
        return UciErr.NOTFOUND;
      case ErrorCodes.UCI_INVALID_ARGUMENT:
        return UciErr.INVAL;
      case ErrorCodes.UCI_PARSE:
        return UciErr.PARSE;
      case ErrorCodes.IO:
        return UciErr.IO;
      default:
        return UciErr.UNKNOWN;
    }
  }
  return UciErr.UNKNOWN;
}

/** libuci's uci_errstr[]. */
export function uciErrorString(n: number): string {
  return ERROR_STRINGS[n] ?? 'Unknown error';
}

/** True for errors this library raises on purpose (others are bugs and must not be swallowed). */
export function isUciError(error: unknown): error is WrtkitError {
  return (
    error instanceof WrtkitError &&
    (error.code === ErrorCodes.UCI_PARSE ||
      error.code === ErrorCodes.UCI_NOT_FOUND ||
      error.code === ErrorCodes.UCI_INVALID_ARGUMENT ||
      error.code === ErrorCodes.IO)
  );
}
