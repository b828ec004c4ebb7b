// newsloom behind a reverse proxy: links from what the proxy forwards (server.trust_proxy), and /metrics and
// /status closed to anyone without the credentials of server.ops_auth.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { request } from './helpers/http.ts';
import { CONFIG, startPublishing, type Publishing } from './helpers/publish.ts';

const FORWARDED = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'news.example.org', 'x-forwarded-prefix': '/loom/' };

describe('behind a reverse proxy', () => {
  let pub: Publishing;
  afterEach(() => pub.stop());

  const selfLink = async (headers: Record<string, string>) => {
    const atom = (await request(`${pub.url}/feeds/everything.atom`, { headers })).body.toString();
    return /<link rel="self" [^>]*href="([^"]+)"/.exec(atom)?.[1];
  };

  it('links to the forwarded scheme, host and prefix when server.trust_proxy is set', async () => {
    pub = await startPublishing(CONFIG.replace('server: { cache_max_age: 2m }', 'server: { cache_max_age: 2m, trust_proxy: true }'));
    expect(await selfLink(FORWARDED)).toBe('https://news.example.org/loom/feeds/everything.atom');
    // A malformed forwarded value is ignored, not pasted into links.
    expect(await selfLink({ ...FORWARDED, 'x-forwarded-host': 'evil.example/"><x', 'x-forwarded-prefix': '/?q=1' })).toBe(`${pub.url.replace('http://', 'https://')}/feeds/everything.atom`);
    expect(await selfLink({})).toBe(`${pub.url}/feeds/everything.atom`);
  });

  it('ignores forwarded headers unless told to trust them', async () => {
    pub = await startPublishing();
    expect(await selfLink(FORWARDED)).toBe(`${pub.url}/feeds/everything.atom`);
  });

  it('asks for the bearer token of server.ops_auth on /metrics and /status, and nowhere else', async () => {
    pub = await startPublishing(CONFIG.replace('server: { cache_max_age: 2m }', 'server: { cache_max_age: 2m, ops_auth: { token: "0123456789abcdef-token" } }'));
    for (const page of ['/metrics', '/status']) {
      const denied = await request(`${pub.url}${page}`);
      expect(denied.status).toBe(401);
      expect(denied.headers['www-authenticate']).toBe('Bearer');
      expect((await request(`${pub.url}${page}`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
      expect((await request(`${pub.url}${page}`, { headers: { authorization: 'Bearer 0123456789abcdef-token' } })).status).toBe(200);
    }
    expect((await request(`${pub.url}/feeds/everything.atom`)).status).toBe(200);
    expect((await request(`${pub.url}/healthz`)).status).toBe(200);
    expect((await request(`${pub.url}/readyz`)).status).not.toBe(401);
  });

  it('takes basic-auth credentials for them from the environment, the password from a file', async () => {
    pub = await startPublishing();
    const secret = path.join(path.dirname(pub.daemon.context.config.storage.path), 'ops-password');
    writeFileSync(secret, 's3cret\n');
    const config = parseConfig(CONFIG, 'test.yaml', { NEWSLOOM_OPS_USERNAME: 'prometheus', NEWSLOOM_OPS_PASSWORD_FILE: secret });
    expect(config.server.ops_auth).toEqual({ username: 'prometheus', password: 's3cret' });
    pub.daemon.context.config = { ...pub.daemon.context.config, server: config.server };
    const denied = await request(`${pub.url}/metrics`);
    expect(denied.status).toBe(401);
    expect(denied.headers['www-authenticate']).toBe('Basic realm="newsloom", charset="UTF-8"');
    const basic = (user: string) => ({ authorization: `Basic ${Buffer.from(user).toString('base64')}` });
    expect((await request(`${pub.url}/metrics`, { headers: basic('prometheus:wrong') })).status).toBe(401);
    const metrics = await request(`${pub.url}/metrics`, { headers: basic('prometheus:s3cret') });
    expect(metrics.status).toBe(200);
    expect(metrics.body.toString()).toContain('newsloom_');
  });
});
