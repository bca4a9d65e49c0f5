import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT, readContent, writeContent } from '../../src/content.js';
import { PiraniaErrors, piraniaReasonOf } from '../../src/vouchers/errors.js';
import { nodePlatform, tempDir } from './helpers.js';

const LOGO =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

describe('portal content', () => {
  it('defaults every field when the file is missing or broken', async () => {
    const { fs } = await nodePlatform();
    const path = join(tempDir(), 'content.json');
    expect(readContent(fs, path)).toEqual(DEFAULT_CONTENT);
    expect(DEFAULT_CONTENT).toMatchObject({ title: 'Community network', background_color: '#ffffff' });
    writeFileSync(path, '{"title": "Half');
    expect(readContent(fs, path)).toEqual(DEFAULT_CONTENT);
  });

  it('reads what Pirania wrote, defaulting missing and unsafe fields', async () => {
    const { fs } = await nodePlatform();
    const path = join(tempDir(), 'content.json');
    writeFileSync(
      path,
      JSON.stringify({
        title: 'Quintana Libre',
        main_text: 'Hola',
        logo: LOGO,
        link_url: 'javascript:alert(1)',
        background_color: 'red',
      }),
    );
    expect(readContent(fs, path)).toEqual({ ...DEFAULT_CONTENT, title: 'Quintana Libre', main_text: 'Hola', logo: LOGO });
  });

  it('writes valid content atomically and reads it back', async () => {
    const { fs } = await nodePlatform();
    const path = join(tempDir(), 'pirania/content.json');
    const content = {
      title: 'Red Comunitaria',
      main_text: 'é'.repeat(5120),
      logo: 'https://example.org/logo.png',
      link_title: 'Más',
      link_url: 'http://thisnode.info/info',
      background_color: '#A1b2C3',
    };
    expect(writeContent(fs, path, content)).toEqual(content);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(content);
    expect(readContent(fs, path)).toEqual(content);
    expect(writeContent(fs, path, { title: 'Only a title' })).toEqual({ ...DEFAULT_CONTENT, title: 'Only a title' });
  });

  it.each([
    [{ background_color: 'red' }, 'background_color'],
    [{ background_color: '#12345' }, 'background_color'],
    [{ link_url: 'javascript:alert(1)' }, 'link_url'],
    [{ link_url: 'http://x.org/"onmouseover="x' }, 'link_url'],
    [{ logo: 'file:///etc/shadow' }, 'logo'],
    [{ logo: 'data:text/html,<script>x</script>' }, 'logo'],
    [{ logo: `data:image/png;base64,${'A'.repeat(200 * 1024)}` }, 'logo'],
    [{ title: 'é'.repeat(5121) }, 'title'],
    [{ main_text: 42 }, 'main_text'],
    [{ colour: '#fff' }, 'colour'],
  ])('refuses %o', async (bad, field) => {
    const { fs } = await nodePlatform();
    const path = join(tempDir(), 'content.json');
    try {
      writeContent(fs, path, bad as never);
      expect.unreachable();
    } catch (error) {
      expect(piraniaReasonOf(error)).toBe(PiraniaErrors.CONTENT_INVALID);
      expect((error as { details: { field: string } }).details.field).toBe(field);
    }
    expect(fs.exists(path)).toBe(false);
  });
});
