import { ErrorCodes, type HttpHandler, WrtkitError } from '@wrtkit/sdk';
import { describe, expect, it } from 'vitest';
import { MESSAGES, createPortal, defaultPortalUrl, normalizeCode, originalUrl, parseHost } from '../../src/portal/portal.js';
import type { PortalResponse } from '../../src/portal/types.js';
import { CLIENT_IP, CLIENT_MAC, NOW, fixture, request } from './helpers.js';

const activate = (voucher: string, prev?: string, extra: Parameters<typeof request>[0] = {}) =>
  request({ method: 'POST', target: '/activate', form: { voucher, ...(prev !== undefined ? { prev } : {}) }, ...extra });

function expectPageHeaders(r: PortalResponse): void {
  expect(r.headers['Content-Type']).toBe('text/html; charset=utf-8');
  expect(r.headers['Cache-Control']).toBe('no-store');
  expect(r.headers['X-Frame-Options']).toBe('DENY');
  expect(r.headers['Referrer-Policy']).toBe('no-referrer');
  const csp = r.headers['Content-Security-Policy'] ?? '';
  expect(csp).toContain("default-src 'none'");
  expect(csp).not.toMatch(/script-src/);
  expect(r.body).not.toMatch(/<script/i);
}

describe('portal: redirect of other sites', () => {
  it("is a handler for core's serveHttp", () => {
    const handler: HttpHandler = createPortal(fixture().deps); // type-checked by tsc
    expect(typeof handler).toBe('function');
  });

  it('sends any other host to the portal with the original URL in prev', async () => {
    const { deps } = fixture();
    const r = await createPortal(deps)(request({ host: 'example.org', target: '/news?id=3&x=a%20b' }));
    expect(r.status).toBe(302);
    expect(r.headers.Location).toBe(
      `http://thisnode.info:59080/?prev=${encodeURIComponent('http://example.org/news?id=3&x=a%20b')}`,
    );
    expectPageHeaders(r);
    expect(r.body).toContain('href="http://thisnode.info:59080/?prev=');
  });

  it('redirects POSTs to other hosts and leaves out a prev it cannot trust', async () => {
    const { deps } = fixture();
    const r = await createPortal(deps)(request({ method: 'POST', host: 'evil.example"><x', target: '/' }));
    expect(r.status).toBe(302);
    expect(r.headers.Location).toBe('http://thisnode.info:59080/');
  });

  it('serves the portal for its domain, portal_url host, and the router address it was reached on', async () => {
    const { deps, state } = fixture();
    state.settings = { ...state.settings, portalUrl: 'http://portal.lan:59080/welcome?x=1' };
    const portal = createPortal(deps);
    for (const host of [
      'thisnode.info',
      'THISNODE.INFO:59080',
      'thisnode.info.',
      'portal.lan:59080',
      '10.1.0.1',
      '10.1.0.1:59080',
    ]) {
      expect((await portal(request({ host }))).status, host).toBe(200);
    }
    const r = await portal(request({ host: '10.9.9.9' }));
    expect(r.status).toBe(302);
    expect(r.headers.Location).toBe(`http://portal.lan:59080/welcome?x=1&prev=${encodeURIComponent('http://10.9.9.9/')}`);
    // an IPv6 router address in brackets
    expect((await portal(request({ host: '[fd01::1]:59080', local: '::ffff:10.1.0.1' }))).status).toBe(302);
    expect((await portal(request({ host: '[fd01::1]:59080', local: 'fd01::1' }))).status).toBe(200);
  });

  it('keeps absolute-form targets and the default portal URL', () => {
    expect(originalUrl(request({ host: 'a.example', target: 'http://b.example/x' }))).toBe('http://b.example/x');
    expect(originalUrl(request({ host: null, target: '/x' }))).toBeUndefined();
    expect(defaultPortalUrl('thisnode.info', 59080)).toBe('http://thisnode.info:59080/');
    expect(defaultPortalUrl('thisnode.info', 80)).toBe('http://thisnode.info/');
    expect(parseHost('[FD01::1]:80')).toEqual({ host: 'fd01::1', port: 80 });
    expect(parseHost('a b')).toBeUndefined();
  });
});

describe('portal: the voucher page', () => {
  it('shows the community content and an accessible form that needs no script', async () => {
    const { deps } = fixture();
    const r = await createPortal(deps)(request({ target: `/?prev=${encodeURIComponent('http://example.org/a?b=1')}` }));
    expect(r.status).toBe(200);
    expectPageHeaders(r);
    const html = r.body;
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('<title>Red Libre del Barrio</title>');
    expect(html).toContain('<h1>Red Libre del Barrio</h1>');
    expect(html).toContain('Bienvenida.\nAsk at the bakery');
    expect(html).toContain('body{background:#ffe0b0}');
    expect(html).toContain('<a href="http://10.0.0.5/about">About us</a>');
    expect(html).toContain('<form method="post" action="/activate">');
    expect(html).toContain('<input type="hidden" name="prev" value="http://example.org/a?b=1">');
    expect(html).toContain('<label for="voucher">');
    const input = /<input type="text"[^>]*>/.exec(html)?.[0] ?? '';
    for (const attr of [
      'id="voucher"',
      'name="voucher"',
      'autofocus',
      'autocomplete="off"',
      'autocapitalize="characters"',
      'inputmode="text"',
      'maxlength="32"',
      'required',
    ])
      expect(input).toContain(attr);
    expect(html).toContain('<button type="submit">');
  });

  it("answers Pirania's page paths too, 404 for others and 405 for wrong methods", async () => {
    const { deps } = fixture();
    const portal = createPortal(deps);
    for (const target of ['/index.html', '/portal/', '/portal/auth.html', '/portal/fail.html', '/activate'])
      expect((await portal(request({ target }))).status, target).toBe(200);
    const missing = await portal(request({ target: '/nothing' }));
    expect(missing.status).toBe(404);
    expectPageHeaders(missing);
    const wrong = await portal(request({ method: 'PUT', target: '/' }));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.Allow).toBe('GET, HEAD');
    // HEAD: the GET answer (core's server sends it without the body)
    const head = await portal(request({ method: 'HEAD', target: '/' }));
    expect(head.status).toBe(200);
    expect(head.body).toContain('<form');
  });

  it('escapes content: markup in it shows as text', async () => {
    const { deps, state } = fixture();
    state.content = {
      title: '<script>alert(1)</script>',
      main_text: '"><img src=x onerror=alert(1)>',
      background_color: 'red;}</style><script>x()</script>',
      logo: 'javascript:alert(1)',
      link_title: '<b>x</b>',
      link_url: 'javascript:alert(1)',
    };
    const r = await createPortal(deps)(request({ target: '/?prev=javascript:alert(1)' }));
    expect(r.status).toBe(200);
    expect(r.body).toContain('<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>');
    expect(r.body).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(r.body).not.toMatch(/<script|<img src=x|javascript:|<b>x/i);
    expect(r.body).toContain('body{background:#eceff1}'); // the default, not the injected rule
    expect(r.body).not.toContain('name="prev"');
  });

  it('shows a data: logo', async () => {
    const { deps, state } = fixture();
    state.content = { ...state.content, logo: 'data:image/png;base64,iVBORw0KGgo=' };
    const r = await createPortal(deps)(request());
    expect(r.body).toContain('<img class="logo" src="data:image/png;base64,iVBORw0KGgo=" alt="">');
  });

  it('says the uplink is down instead of showing the form (503)', async () => {
    const { deps, state } = fixture();
    state.online = false;
    const r = await createPortal(deps)(request());
    expect(r.status).toBe(503);
    expectPageHeaders(r);
    expect(r.body).toContain('The community&#39;s internet connection is down right now');
    expect(r.body).not.toContain('<form');
  });

  it('tells an authorized device it is online, and until when', async () => {
    const { deps, vouchers } = fixture();
    vouchers.add('ABCDEF', { mac: CLIENT_MAC, activation_date: NOW / 1000 - 60, duration_m: 60 });
    const r = await createPortal(deps)(request());
    expect(r.status).toBe(200);
    expect(r.body).toContain('You are online.');
    expect(r.body).toContain('Your access lasts until 2026-03-01 12:59.');
    expect(r.body).not.toContain('<form');
  });

  it('shows the form again once the authorization ended', async () => {
    const { deps, vouchers, state } = fixture();
    vouchers.add('ABCDEF', { mac: CLIENT_MAC, activation_date: NOW / 1000 - 7200, duration_m: 60 });
    state.now = NOW;
    const r = await createPortal(deps)(request());
    expect(r.body).toContain('<form');
  });
});

describe('portal: POST /activate', () => {
  it('activates a code (trimmed, upper-cased) for the MAC and says until when, with a link back', async () => {
    const { deps, vouchers, activated, logs } = fixture();
    vouchers.add('ABCDEF', { duration_m: 90 });
    const r = await createPortal(deps)(activate('  abc def \n', 'http://example.org/page?x=1'));
    expect(r.status).toBe(200);
    expectPageHeaders(r);
    expect(vouchers.activations).toEqual([{ code: 'ABCDEF', mac: CLIENT_MAC }]);
    expect(activated.map((a) => [a.voucher.code, a.mac])).toEqual([['ABCDEF', CLIENT_MAC]]);
    expect(r.body).toContain('You are online.');
    expect(r.body).toContain('Your access lasts until 2026-03-01 13:30.');
    expect(r.body).toContain('<a href="http://example.org/page?x=1">Continue to http://example.org/page?x=1</a>');
    expect(logs.some((l) => l.message === 'portal: voucher activated')).toBe(true);
  });

  it('says "no time limit" for permanent vouchers and links nowhere without a safe prev', async () => {
    const { deps, vouchers } = fixture();
    vouchers.add('PERMAN');
    const r = await createPortal(deps)(activate('PERMAN', 'javascript:alert(document.cookie)'));
    expect(r.status).toBe(200);
    expect(r.body).toContain('Your access has no time limit.');
    expect(r.body).not.toContain('javascript:');
    expect(r.body).not.toContain('Continue to');
  });

  it('refuses a wrong or used code with 403 and the form again, counting it', async () => {
    const { deps, vouchers, limiter } = fixture();
    vouchers.add('USEDUP', { mac: 'aa:bb:cc:dd:ee:99', activation_date: NOW / 1000 });
    const portal = createPortal(deps);
    for (const code of ['NOPE12', 'usedup']) {
      const r = await portal(activate(code, 'http://example.org/'));
      expect(r.status).toBe(403);
      expectPageHeaders(r);
      expect(r.body).toContain(MESSAGES.wrongCode.replace("'", '&#39;'));
      expect(r.body).toContain('role="alert"');
      expect(r.body).toContain('aria-invalid="true"');
      expect(r.body).toContain('<form');
      expect(r.body).toContain('value="http://example.org/"');
    }
    expect(limiter.globalCount()).toBe(2);
  });

  it('escapes the code it shows back', async () => {
    const { deps } = fixture();
    const r = await createPortal(deps)(activate('<b>"x'));
    expect(r.status).toBe(403);
    expect(r.body).toContain('value="&lt;B&gt;&quot;X"');
  });

  it('asks for a code when none was typed (400, not counted)', async () => {
    const { deps, limiter } = fixture();
    const r = await createPortal(deps)(activate('   '));
    expect(r.status).toBe(400);
    expect(r.body).toContain('Please type the code');
    expect(limiter.globalCount()).toBe(0);
  });

  it('pauses a device after too many wrong codes (429, Retry-After, minutes)', async () => {
    const { deps, vouchers, state } = fixture();
    vouchers.add('GOODGO');
    const portal = createPortal(deps);
    for (let i = 0; i < 3; i++) expect((await portal(activate(`BAD${i}`))).status).toBe(403);
    state.now += 60_000;
    const r = await portal(activate('GOODGO'));
    expect(r.status).toBe(429);
    expectPageHeaders(r);
    expect(r.headers['Retry-After']).toBe('240');
    expect(r.body).toContain('Too many wrong codes were entered from this device. Please try again in 4 minutes.');
    expect(r.body).not.toContain('<form');
    expect(vouchers.activations).toHaveLength(3); // the code was not even tried
    state.now += 240_000;
    expect((await portal(activate('GOODGO'))).status).toBe(200);
  });

  it('pauses everyone when the global limit is reached', async () => {
    const { deps, state } = fixture();
    const portal = createPortal(deps);
    for (let i = 0; i < 10; i++) {
      const ip = `10.1.0.${100 + i}`;
      state.macs.set(ip, `aa:bb:cc:00:00:${(16 + i).toString(16)}`);
      await portal(activate('WRONGX', undefined, { remote: ip }));
    }
    const r = await portal(activate('WRONGX'));
    expect(r.status).toBe(429);
    expect(r.body).toContain('on this network');
  });

  it('explains to reconnect when the MAC is unknown (400)', async () => {
    const { deps, vouchers } = fixture();
    vouchers.add('ABCDEF');
    const portal = createPortal(deps);
    for (const remote of ['10.1.0.77', null]) {
      const r = await portal(activate('ABCDEF', undefined, { remote }));
      expect(r.status).toBe(400);
      expectPageHeaders(r);
      expect(r.body).toContain('Disconnect from this network, connect again');
    }
    expect(vouchers.activations).toHaveLength(0);
  });

  it('treats a MAC the store refuses like an unknown device (400, not counted)', async () => {
    const { deps, vouchers, state, limiter } = fixture();
    vouchers.add('ABCDEF');
    state.macs.set(CLIENT_IP, '01:00:5e:00:00:01');
    const r = await createPortal(deps)(activate('ABCDEF'));
    expect(r.status).toBe(400);
    expect(limiter.globalCount()).toBe(0);
  });

  it('refuses codes while the uplink is down (503, no form, code not spent)', async () => {
    const { deps, vouchers, state } = fixture();
    vouchers.add('ABCDEF');
    state.online = false;
    const r = await createPortal(deps)(activate('ABCDEF'));
    expect(r.status).toBe(503);
    expect(r.body).toContain('cannot be used until it is back');
    expect(r.body).not.toContain('<form');
    expect(vouchers.activations).toHaveLength(0);
  });

  it('does not spend a second code on a device that is online', async () => {
    const { deps, vouchers } = fixture();
    vouchers.add('FIRSTX');
    vouchers.add('SECOND');
    const portal = createPortal(deps);
    expect((await portal(activate('FIRSTX'))).status).toBe(200);
    const r = await portal(activate('SECOND'));
    expect(r.status).toBe(200);
    expect(r.body).toContain('You are online.');
    expect(vouchers.activations.map((a) => a.code)).toEqual(['FIRSTX']);
  });

  it('answers 500 for a router failure, without counting it as a wrong code', async () => {
    const { deps, vouchers, limiter, logs } = fixture();
    vouchers.failWith = new WrtkitError(ErrorCodes.IO, 'disk full');
    const r = await createPortal(deps)(activate('ABCDEF'));
    expect(r.status).toBe(500);
    expectPageHeaders(r);
    expect(limiter.globalCount()).toBe(0);
    expect(logs.some((l) => l.level === 'error')).toBe(true);
  });

  it('still shows success when the after-activation hook fails (logged)', async () => {
    const { deps, vouchers, logs } = fixture();
    vouchers.add('ABCDEF');
    const portal = createPortal({
      ...deps,
      onActivated: () => {
        throw new Error('nft busy');
      },
    });
    const r = await portal(activate('ABCDEF'));
    expect(r.status).toBe(200);
    expect(logs.some((l) => l.level === 'error' && l.message === 'portal: after activation')).toBe(true);
  });

  it('normalizes codes', () => {
    expect(normalizeCode(' ab cd\tef\n')).toBe('ABCDEF');
    expect(normalizeCode(undefined)).toBe('');
  });
});

describe('portal: RFC 8908 API', () => {
  it('says captive for a device without a voucher, with the portal URL', async () => {
    const { deps } = fixture();
    const portal = createPortal(deps);
    for (const target of ['/api/captive', '/captive-portal/api']) {
      const r = await portal(request({ target, host: 'thisnode.info:59080' }));
      expect(r.status).toBe(200);
      expect(r.headers['Content-Type']).toBe('application/captive+json');
      expect(r.headers['Cache-Control']).toContain('no-store');
      expect(JSON.parse(r.body)).toEqual({
        captive: true,
        'user-portal-url': 'http://thisnode.info:59080/',
        'can-extend-session': false,
      });
    }
  });

  it('says not captive with the seconds remaining once activated', async () => {
    const { deps, vouchers, state } = fixture();
    vouchers.add('ABCDEF', { duration_m: 10 });
    const portal = createPortal(deps);
    await portal(activate('ABCDEF'));
    state.now += 100_500;
    const r = await portal(request({ target: '/api/captive' }));
    expect(JSON.parse(r.body)).toEqual({
      captive: false,
      'user-portal-url': 'http://thisnode.info:59080/',
      'seconds-remaining': 499,
      'can-extend-session': false,
    });
    expect((await portal(request({ method: 'POST', target: '/api/captive' }))).status).toBe(405);
  });
});
