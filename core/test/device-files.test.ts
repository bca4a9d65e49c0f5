import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import validateHostConfig from '../src/generated/validate-config.js';
import { hostConfigSchema } from '../src/host/host-config.js';
import { validateConfig } from '../src/config/validate.js';
import { parseUci } from '../src/uci/index.js';
import { repoRoot } from './helpers/engines.js';

const files = join(repoRoot, 'core/openwrt/files');

describe('device integration files', () => {
  it('the default /etc/config/wrtkit parses strictly and validates, with the schema defaults', () => {
    const text = readFileSync(join(files, 'etc/config/wrtkit'), 'utf8');
    const { package: pkg } = parseUci(text, { name: 'wrtkit', strict: true });
    const result = validateConfig<{ wrtkit: Record<string, unknown> }>('wrtkit', pkg, hostConfigSchema, validateHostConfig);
    expect(result.ok).toBe(true);
    const defaults = validateConfig<{ wrtkit: Record<string, unknown> }>(
      'wrtkit',
      undefined,
      hostConfigSchema,
      validateHostConfig,
    );
    // Every option the file sets is the default, so the file documents rather than changes.
    if (result.ok && defaults.ok)
      expect({ ...result.config.wrtkit, '.name': undefined }).toEqual({ ...defaults.config.wrtkit, '.name': undefined });
  });

  it('the procd init script and the launcher are valid sh', () => {
    for (const script of ['etc/init.d/wrtkit', 'usr/bin/wrtkit']) {
      expect(() => execFileSync('sh', ['-n', join(files, script)])).not.toThrow();
    }
    const init = readFileSync(join(files, 'etc/init.d/wrtkit'), 'utf8');
    expect(init).toContain('USE_PROCD=1');
    expect(init).toMatch(/procd_set_param respawn/);
    expect(init).toMatch(/procd_add_reload_trigger wrtkit/);
    expect(readFileSync(join(files, 'usr/bin/wrtkit'), 'utf8')).toContain(
      'qjs --no-unhandled-rejection /usr/share/wrtkit/wrtkit.js',
    );
  });
});
