import type { PluginContext } from '@wrtkit/sdk';
import { PiraniaErrors, piraniaError } from './vouchers/errors.js';

/**
 * The portal page's words and looks: Pirania's /etc/pirania/content.json (config
 * content_path), which LimeApp edits through set_portal_page_content.
 */
export interface PortalContent {
  title: string;
  main_text: string;
  /** A data: URI (an image) or an http(s) URL; '' for none. */
  logo: string;
  link_title: string;
  /** http(s) URL; '' for none. */
  link_url: string;
  /** CSS hex colour, e.g. #ffffff. */
  background_color: string;
}

export const DEFAULT_CONTENT: Readonly<PortalContent> = {
  title: 'Community network',
  main_text: 'Enter the code of your voucher to use the network. Ask the people who run it for one.',
  logo: '',
  link_title: '',
  link_url: '',
  background_color: '#ffffff',
};

export const MAX_TEXT_BYTES = 10 * 1024;
export const MAX_LOGO_BYTES = 200 * 1024;

export type ContentFs = Pick<PluginContext['platform']['fs'], 'tryReadText' | 'writeAtomic' | 'mkdirp'>;

const FIELDS = Object.keys(DEFAULT_CONTENT) as Array<keyof PortalContent>;

/** UTF-8 length without TextEncoder (QuickJS has none): the limits are about bytes on flash and on the wire. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
}

const HTTP_URL = /^https?:\/\/[^\s"'<>`]+$/i;
// An image as a data: URI, base64 or percent-encoded; quotes, angle brackets and blanks
// are refused so the value cannot break out of an HTML attribute.
const DATA_IMAGE = /^data:image\/[a-z0-9.+-]+(;[a-z0-9.+-]+=[a-z0-9.+-]+)*(;base64)?,[^\s"'<>`]*$/i;
const HEX_COLOUR = /^#([0-9a-f]{3}|[0-9a-f]{4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;

/** Why the field's value may not be served, or undefined when it may. */
function problemOf(field: keyof PortalContent, value: unknown): string | undefined {
  if (typeof value !== 'string') return `${field} must be a string`;
  if (field === 'logo') {
    if (utf8Length(value) > MAX_LOGO_BYTES) return `logo must be at most ${MAX_LOGO_BYTES} bytes`;
    if (value !== '' && !DATA_IMAGE.test(value) && !HTTP_URL.test(value)) {
      return 'logo must be a data:image/… URI or an http(s) URL';
    }
    return undefined;
  }
  if (utf8Length(value) > MAX_TEXT_BYTES) return `${field} must be at most ${MAX_TEXT_BYTES} bytes`;
  // A javascript: link on a page every visitor opens would be an attack, not a link.
  if (field === 'link_url' && value !== '' && !HTTP_URL.test(value)) return 'link_url must be an http(s) URL';
  if (field === 'background_color' && !HEX_COLOUR.test(value)) return 'background_color must be a CSS hex colour such as #ffffff';
  return undefined;
}

/**
 * The content to serve. Missing, unreadable or invalid fields (and a missing or broken
 * file) get the defaults: the portal must always have a page to show, and a hand-edited
 * file must not smuggle in what writeContent would refuse.
 */
export function readContent(fs: Pick<ContentFs, 'tryReadText'>, path: string): PortalContent {
  let stored: Record<string, unknown> = {};
  try {
    const text = fs.tryReadText(path);
    const json: unknown = text === undefined ? {} : JSON.parse(text);
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) stored = json as Record<string, unknown>;
  } catch {
    // unreadable or not JSON: defaults
  }
  const out: PortalContent = { ...DEFAULT_CONTENT };
  for (const field of FIELDS) {
    const value = stored[field];
    if (problemOf(field, value) === undefined) out[field] = value as string;
  }
  return out;
}

/** The content if every field is acceptable; throws CONTENT_INVALID naming the first bad field. */
export function checkContent(content: Record<string, unknown>): PortalContent {
  const out = { ...DEFAULT_CONTENT };
  for (const key of Object.keys(content)) {
    if (!(FIELDS as string[]).includes(key)) {
      throw piraniaError(PiraniaErrors.CONTENT_INVALID, `unknown content field ${key}`, { field: key });
    }
  }
  for (const field of FIELDS) {
    const value = content[field] ?? DEFAULT_CONTENT[field];
    const problem = problemOf(field, value);
    if (problem !== undefined) throw piraniaError(PiraniaErrors.CONTENT_INVALID, problem, { field });
    out[field] = value as string;
  }
  return out;
}

/** Validates and writes the content atomically (fields not given take the defaults); returns what was written. */
export function writeContent(fs: ContentFs, path: string, content: Partial<PortalContent>): PortalContent {
  const checked = checkContent(content as Record<string, unknown>);
  const dir = path.slice(0, path.lastIndexOf('/'));
  if (dir) fs.mkdirp(dir);
  fs.writeAtomic(path, `${JSON.stringify(checked, null, 2)}\n`);
  return checked;
}
