/** UCI: OpenWrt's config format, parsed, edited, staged and committed as libuci does. */
export { UciPackage, UciSection, type UciValue } from './model.js';
export { parseUci, parseUciStream, type ParseUciOptions, type ParseStreamOptions, type ParseStreamResult } from './parse.js';
export { exportUci, type ExportOptions } from './export.js';
export { UciContext, type UciContextOptions } from './context.js';
export { diffPackages, applyChanges, type UciChange } from './diff.js';
export {
  applyDelta,
  applyDeltaFile,
  formatChange,
  formatDelta,
  formatDeltaLine,
  parseDeltaArgument,
  quoteUciValue,
  readDeltaFile,
  type UciDelta,
  type UciDeltaCommand,
} from './delta.js';
export { parseUciPath, resolvePath, lookupExtendedSection, formatUciPath, type UciPath, type UciPtr } from './path.js';
export { anonymousSectionName, djbHash, validateName, validatePackage, validateType } from './names.js';
export { UciErr, UciParseError, uciErrorNumber, uciErrorString } from './errors.js';
export { runUciCommand, type UciCliDefaults, type UciCliIo, type UciCliResult } from './cli.js';
