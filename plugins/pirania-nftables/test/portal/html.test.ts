import { describe, expect, it } from 'vitest';
import { escapeHtml, safeCssColor, safeHttpUrl, safeImageSource } from '../../src/portal/html.js';

describe('portal html helpers', () => {
  it('escapes the five HTML specials', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('keeps only plain http(s) URLs as prev / link targets', () => {
    for (const ok of ['http://example.org/', 'https://example.org/a?b=c#d', 'http://10.0.0.1:8080/x', 'http://[fd00::1]/'])
      expect(safeHttpUrl(ok), ok).toBe(ok);
    for (const bad of [
      'javascript:alert(1)',
      'JAVASCRIPT:alert(1)',
      ' javascript:alert(1)',
      'data:text/html,<script>',
      '//evil.example/',
      '/relative',
      'http://user:pw@bank.example/',
      'http://exa mple.org/',
      'http://example.org/\nSet-Cookie: x',
      'http:/example.org',
      'http://example.org\\@evil/',
      `http://example.org/${'a'.repeat(3000)}`,
      '',
      undefined,
    ])
      expect(safeHttpUrl(bad), String(bad)).toBeUndefined();
  });

  it('allows hex and named colours only', () => {
    expect(safeCssColor('#FFe0B0')).toBe('#FFe0B0');
    expect(safeCssColor('Teal')).toBe('teal');
    for (const bad of ['red;}', 'url(x)', '#12', 'expression(alert(1))', '']) expect(safeCssColor(bad), bad).toBeUndefined();
  });

  it('allows data:image logos, http(s) URLs and local paths', () => {
    expect(safeImageSource('data:image/svg+xml,%3Csvg%3E%3C/svg%3E')).toBe('data:image/svg+xml,%3Csvg%3E%3C/svg%3E');
    expect(safeImageSource('data:image/png;base64,AAAA')).toBe('data:image/png;base64,AAAA');
    expect(safeImageSource('/logo.png')).toBe('/logo.png');
    for (const bad of ['data:text/html;base64,AAAA', 'data:image/png,"><script>', 'javascript:x', '//evil/x.png'])
      expect(safeImageSource(bad), bad).toBeUndefined();
  });
});
