import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unknownVariables, variablesInEffect } from '../src/config/env.ts';
import { ConfigError, parseConfig } from '../src/config/load.ts';
import { silentLogger } from '../src/log.ts';
import { pollSource, type PipelineContext } from '../src/pipeline/ingest.ts';
import { openPipeline } from '../src/daemon.ts';
import { startFixtureServer, type FixtureServer } from './helpers/fixture-server.ts';
import { testConfig, type TestConfig } from './helpers/config.ts';

const SOURCE = 'sources:\n  - id: members-en\n    url: https://members.example/feed\n';

const problems = (yaml: string, env: NodeJS.ProcessEnv) => {
  try {
    parseConfig(yaml, 'newsloom.yaml', env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('the config was accepted');
};

describe('environment for operators', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'newsloom-env-'));
  const secret = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('reads a setting from the file a NAME_FILE variable names, without its final newline', () => {
    const config = parseConfig('', 'c.yaml', { NEWSLOOM_BASE_URL_FILE: secret('base', 'https://news.example.org\n') });
    expect(config.server.base_url).toBe('https://news.example.org');
  });

  it("fills a source's basic-auth credentials from NEWSLOOM_SOURCE_<ID>_USERNAME and _PASSWORD_FILE", () => {
    const config = parseConfig(SOURCE, 'c.yaml', {
      NEWSLOOM_SOURCE_MEMBERS_EN_USERNAME: 'reader',
      NEWSLOOM_SOURCE_MEMBERS_EN_PASSWORD_FILE: secret('password', 's3cret: with colon\n'),
    });
    expect(config.sources[0]!.auth).toEqual({ username: 'reader', password: 's3cret: with colon' });
  });

  it('lets the environment complete credentials half written in the file', () => {
    const yaml = `${SOURCE}    auth: { username: reader }\n`;
    expect(parseConfig(yaml, 'c.yaml', { NEWSLOOM_SOURCE_MEMBERS_EN_PASSWORD: 'pw' }).sources[0]!.auth).toEqual({ username: 'reader', password: 'pw' });
    expect(problems(yaml, {})).toEqual([
      'newsloom.yaml:4:11: sources[0].auth.password: missing: write it here or set NEWSLOOM_SOURCE_<ID>_PASSWORD (or _PASSWORD_FILE)',
    ]);
  });

  it('names the variable when its file cannot be read, or when both forms are set', () => {
    expect(problems(SOURCE, { NEWSLOOM_SOURCE_MEMBERS_EN_PASSWORD_FILE: path.join(dir, 'nope') })[0]).toMatch(
      /^environment NEWSLOOM_SOURCE_MEMBERS_EN_PASSWORD_FILE: cannot read .*nope: ENOENT/,
    );
    expect(problems('', { NEWSLOOM_PORT: '1', NEWSLOOM_PORT_FILE: secret('port', '2') })).toEqual([
      'environment NEWSLOOM_PORT: both NEWSLOOM_PORT and NEWSLOOM_PORT_FILE are set: set one of them',
    ]);
  });

  it('blames the variable for a bad value that came from a file', () => {
    expect(problems('', { NEWSLOOM_PORT_FILE: secret('bad-port', 'eighty\n') })[0]).toMatch(/^environment NEWSLOOM_PORT_FILE: server.port: /);
  });

  it('tells typos and credentials for unknown sources from the variables newsloom reads', () => {
    const env = {
      NEWSLOOM_PORT: '8080',
      NEWSLOOM_PROT: '8080',
      NEWSLOOM_SOURCE_MEMBERS_EN_PASSWORD_FILE: '/run/secrets/pw',
      NEWSLOOM_SOURCE_MEMBERS_RU_PASSWORD: 'x',
      NEWSLOOM_CONFIG: '/config/newsloom.yaml',
      HOME: '/root',
    };
    expect(unknownVariables(env, ['members-en'])).toEqual(['NEWSLOOM_PROT', 'NEWSLOOM_SOURCE_MEMBERS_RU_PASSWORD']);
    expect(variablesInEffect(env, ['members-en'])).toEqual(['NEWSLOOM_CONFIG', 'NEWSLOOM_PORT', 'NEWSLOOM_SOURCE_MEMBERS_EN_PASSWORD_FILE']);
  });
});

describe('a source behind basic authentication', () => {
  let server: FixtureServer;
  let setup: TestConfig;
  let ctx: PipelineContext;

  beforeEach(async () => {
    server = await startFixtureServer();
    server.set('/private.xml', {
      handler: (req, res) => {
        if (req.headers.authorization !== `Basic ${Buffer.from('reader:pässword').toString('base64')}`) {
          res.writeHead(401, { 'www-authenticate': 'Basic realm="members"' }).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(
          '<rss version="2.0"><channel><title>Members</title><item><title>For members only</title><guid>m-1</guid></item></channel></rss>',
        );
      },
    });
  });

  afterEach(async () => {
    await ctx.store.close();
    await server.close();
    setup.cleanup();
  });

  const open = async (auth: string) => {
    setup = testConfig(`sources:\n  - { id: private, url: "${server.url}/private.xml", headers: { X-Team: news }${auth} }\n`);
    ctx = await openPipeline(setup.config, silentLogger);
    return ctx;
  };

  it('sends the credentials with its configured headers', async () => {
    await open(', auth: { username: reader, password: pässword }');
    expect(await pollSource(ctx, ctx.config.sources[0]!)).toMatchObject({ status: 'ok', new: 1 });
    expect(server.requests[0]!.headers['x-team']).toBe('news');
  });

  it('fails with an HTTP error naming the status when the credentials are missing', async () => {
    await open('');
    expect(await pollSource(ctx, ctx.config.sources[0]!)).toMatchObject({ status: 'error', error: { kind: 'http', message: expect.stringMatching(/^HTTP 401/) as string } });
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
  });
});
