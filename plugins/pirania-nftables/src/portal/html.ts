/**
 * HTML helpers for the portal pages: escaping, URL and colour sanitising, the page frame.
 * Pages are plain HTML with inline CSS and no scripts, so they work with JavaScript off
 * and under a Content-Security-Policy that allows no script at all.
 */
import { escapeHtml } from '@wrtkit/sdk';

/** Text for HTML element content and quoted attribute values (core's, via the SDK). */
export { escapeHtml };

/** Longest URL we put in a link or a redirect (browsers cope with more; phones' screens do not). */
export const MAX_URL_LENGTH = 2048;

/**
 * The URL when it is a plain `http:` or `https:` URL with a host, without whitespace or
 * control characters and not too long; otherwise undefined. Everything else
 * (`javascript:`, `data:`, protocol-relative `//x`, relative paths) is refused, so the
 * result is safe as a link target once escaped.
 */
export function safeHttpUrl(value: string | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const url = value.trim();
  if (url.length === 0 || url.length > MAX_URL_LENGTH) return undefined;
  if (/[\s\u0000-\u001f\u007f]/.test(url)) return undefined;
  const match = /^(https?):\/\/([^/?#@\\]+@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?([/?#][^\\]*)?$/.exec(url);
  if (!match) return undefined;
  // credentials in a link are a phishing trick, not something a portal forwards to
  if (match[2] !== undefined) return undefined;
  return url;
}

/**
 * A CSS colour from content.json when it is a hex colour or a colour name; anything else
 * (which could close the style rule) gives undefined.
 */
export function safeCssColor(value: string | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const color = value.trim();
  if (/^#(?:[0-9A-Fa-f]{3,4}|[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$/.test(color)) return color;
  if (/^[A-Za-z]{3,24}$/.test(color)) return color.toLowerCase();
  return undefined;
}

/**
 * An image source for the logo: a `data:image/…` URI (what Pirania's
 * set_portal_page_content stores), an http(s) URL or a path on the portal.
 */
export function safeImageSource(value: string | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const src = value.trim();
  // base64 or percent-encoded; no quotes, angle brackets or blanks (it goes in an attribute)
  if (/^data:image\/[a-z0-9.+-]+(?:;[a-z0-9.+-]+=[a-z0-9.+-]+)*(?:;base64)?,[^\s"'<>`\\]*$/i.test(src)) return src;
  if (/^\/[A-Za-z0-9._~\-/]*$/.test(src) && !src.startsWith('//')) return src;
  return safeHttpUrl(src);
}

/** What every portal page sends: nothing cached, no framing, no referrer, no script. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: http: https:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
};

export interface PageFrame {
  /** The document title (plain text). */
  title: string;
  /** The page background (already sanitised), default a light grey. */
  background?: string;
  /** Trusted HTML for the card: build it from escaped parts only. */
  body: string;
}

const STYLE = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;padding:1rem;font:1.05rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;min-height:100vh}
main{max-width:32rem;margin:1rem auto;background:#fff;border-radius:.75rem;padding:1.25rem 1.25rem 1.5rem;box-shadow:0 1px 4px rgba(0,0,0,.25)}
h1{font-size:1.5rem;line-height:1.25;margin:.25rem 0 .75rem}
.logo{display:block;max-width:100%;max-height:8rem;margin:0 auto 1rem}
.text{white-space:pre-line}
label{display:block;font-weight:600;margin:1rem 0 .35rem}
input[type=text]{width:100%;font:inherit;font-size:1.4rem;letter-spacing:.15em;text-transform:uppercase;padding:.6rem .7rem;border:2px solid #555;border-radius:.4rem}
input[type=text]:focus{outline:3px solid #1a5fb4;outline-offset:1px}
button{margin-top:1rem;width:100%;font:inherit;font-weight:600;padding:.75rem;border:0;border-radius:.4rem;background:#1a5fb4;color:#fff;cursor:pointer}
button:focus{outline:3px solid #0b3570;outline-offset:2px}
.error{border-left:.3rem solid #c01c28;background:#fdecee;padding:.6rem .8rem;margin:1rem 0;color:#7a0d16}
.notice{border-left:.3rem solid #b5835a;background:#fbf3e8;padding:.6rem .8rem;margin:1rem 0}
.ok{border-left:.3rem solid #26a269;background:#e9f7ef;padding:.6rem .8rem;margin:1rem 0}
a{color:#1a5fb4;overflow-wrap:anywhere}
.more{margin-top:1.25rem}
`
  .trim()
  .replace(/\n/g, '');

/** A complete HTML document around a card of trusted HTML. */
export function renderPage(frame: PageFrame): string {
  const background = frame.background ?? '#eceff1';
  return (
    '<!DOCTYPE html>\n' +
    '<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    '<meta name="robots" content="noindex">\n' +
    `<title>${escapeHtml(frame.title)}</title>\n` +
    `<style>${STYLE}body{background:${background}}</style>\n` +
    `</head>\n<body>\n<main>\n${frame.body}\n</main>\n</body>\n</html>\n`
  );
}
