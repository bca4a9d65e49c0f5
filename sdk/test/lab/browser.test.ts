/**
 * A real browser in a lab node: headless Chromium in the client's namespace opens a page
 * a tiny server in another node serves, by a name the lab's own DNS answers, fills and
 * submits its form, and reads the result; the server saw it all come from the client's
 * address. lab.destroy() ends the browser.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeBrowserWrapper } from '../../src/lab/browser.js';
import { browserSupported, createLab, launchBrowser, leftovers } from '../../src/lab/index.js';

const support = browserSupported();
const skipNote = support.ok ? '' : ` (skipped: ${support.reason})`;
if (!support.ok) console.warn(`browser lab test skipped: ${support.reason}`);

// HTTP on :8080 (a form, and a result page naming who sent it) and DNS on :53 answering
// every A question with the server's address; each request is logged as a JSON line.
const SERVER = `
const http = require('node:http'), dgram = require('node:dgram');
const [address] = process.argv.slice(1);
http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    const from = req.socket.remoteAddress.replace(/^::ffff:/, '');
    console.log('REQUEST ' + JSON.stringify({ method: req.method, url: req.url, host: req.headers.host, from, body }));
    res.setHeader('content-type', 'text/html; charset=utf-8');
    if (req.method === 'POST' && req.url === '/submit') {
      const name = (new URLSearchParams(body).get('name') || '').replace(/[<>&"]/g, '');
      res.end('<!DOCTYPE html><title>Thanks</title><h1 id="result">Hello, ' + name + '</h1><p id="from">' + from + '</p>');
    } else {
      res.end('<!DOCTYPE html><title>Form</title><form method="post" action="/submit"><label for="name">Name</label>' +
        '<input id="name" name="name"><button type="submit">Send</button></form>');
    }
  });
}).listen(8080, address, () => console.log('http listening'));
const dns = dgram.createSocket('udp4');
dns.on('message', (q, peer) => {
  let off = 12;
  while (q[off] !== 0) off += q[off] + 1;
  off += 5;
  const type = q.readUInt16BE(off - 4);
  console.log('DNS ' + JSON.stringify({ type, from: peer.address }));
  const header = Buffer.from([q[0], q[1], 0x81, 0x80, 0, 1, 0, type === 1 ? 1 : 0, 0, 0, 0, 0]);
  const answer = type === 1 ? Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, ...address.split('.').map(Number)]) : Buffer.alloc(0);
  dns.send(Buffer.concat([header, q.subarray(12, off), answer]), peer.port, peer.address);
});
dns.bind(53, address, () => console.log('dns listening'));
`;

describe('lab browser wrapper', () => {
  it('enters the namespace, confines name lookup, then runs Chromium with the given arguments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wrtkit-browser-wrapper-'));
    try {
      const wrapper = writeBrowserWrapper(dir, "wkl-x'y", '/opt/chromium', ['10.1.0.1', 'fd01::1']);
      const outer = readFileSync(wrapper, 'utf8');
      expect(outer).toMatch(/^#!\/bin\/sh\n/);
      expect(outer).toMatch(/exec '\/[a-z/]*ip' netns exec 'wkl-x'\\''y' \/bin\/sh '.*in-node\.sh' "\$@"/);
      const inner = readFileSync(join(dir, 'in-node.sh'), 'utf8');
      expect(inner).toContain(`mount --bind '${dir}/resolv.conf' /etc/resolv.conf`);
      expect(inner).toContain(`exec '/opt/chromium' "$@"`);
      expect(readFileSync(join(dir, 'resolv.conf'), 'utf8')).toContain('nameserver 10.1.0.1\nnameserver fd01::1\n');
      expect(readFileSync(join(dir, 'nsswitch.conf'), 'utf8')).toContain('hosts: files dns');
      expect(() => writeBrowserWrapper(dir, 'ns', '/opt/chromium', ['8.8.8.8\nnameserver 1.1.1.1'])).toThrow(/not an IP address/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what is missing', () => {
    const r = browserSupported({ executable: '/nonexistent/chromium' });
    expect(r.ok).toBe(false);
  });
});

describe.skipIf(!support.ok)(`lab: a real browser in a node${skipNote}`, () => {
  it('opens a page in another node by a lab name, submits its form, and dies with the lab', async () => {
    const lab = await createLab({
      nodes: { client: {}, server: {} },
      links: [{ a: 'client', b: 'server', addresses: { client: ['10.7.0.2/24'], server: ['10.7.0.1/24'] } }],
    });
    try {
      const server = lab.node('server').spawn([process.execPath, '-e', SERVER, '10.7.0.1']);
      await server.waitFor(/^http listening/);
      await server.waitFor(/^dns listening/);

      const browser = await launchBrowser(lab.node('client'), { nameservers: ['10.7.0.1'] });
      expect(lab.node('client').pids().length).toBeGreaterThan(0); // Chromium lives in the client's namespace
      const page = await browser.newPage();
      await page.goto('http://form.lab.test:8080/', { timeout: 15_000 });
      await page.fill('#name', 'Ada');
      await Promise.all([page.waitForURL('**/submit', { timeout: 15_000 }), page.click('button[type=submit]')]);
      expect(await page.textContent('#result')).toBe('Hello, Ada');
      expect(await page.textContent('#from')).toBe('10.7.0.2');

      const requests = server.matching(/^REQUEST /).map((l) => JSON.parse(l.slice(8)) as Record<string, string>);
      expect(requests).toContainEqual({
        method: 'POST',
        url: '/submit',
        host: 'form.lab.test:8080',
        from: '10.7.0.2',
        body: 'name=Ada',
      });
      expect(requests.every((r) => r.from === '10.7.0.2')).toBe(true);
      const lookups = server.matching(/^DNS /).map((l) => JSON.parse(l.slice(4)) as { type: number; from: string });
      expect(lookups).toContainEqual({ type: 1, from: '10.7.0.2' });

      // destroy() with the browser still open: it is killed with the namespace
      const disconnected = new Promise<void>((resolve) => browser.once('disconnected', () => resolve()));
      await lab.destroy();
      await disconnected;
      expect(browser.isConnected()).toBe(false);
      expect(leftovers(lab.prefix)).toEqual({ namespaces: [], processes: [], dirs: [], registries: [] });
    } finally {
      await lab.destroy();
    }
  }, 90_000);
});
