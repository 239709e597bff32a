/**
 * What the exporter says about the Admin API must be readable and tell the
 * cause (issue 10, defect 6): a compressed error body is decoded (or
 * described), never logged as binary; a refresh that runs out of time says
 * what its last attempt met; a plain-http API URL is warned about once.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CANARY_KEY, useHarness } from './support/harness.js';

const harness = useHarness();

/** Replacement characters and C0 controls other than tab and newline: what binary decoded as UTF-8 looks like. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this looks for
const BINARY = /[\ufffd\u0000-\u0008\u000b-\u001f]/;

describe('a compressed error answer', () => {
  for (const encoding of ['gzip', 'br'] as const) {
    it(`${encoding}: its text is in the log line and on the status page, not its bytes`, async () => {
      const h = await harness();
      h.sim.setFault('spend_limit', { kind: 'status', status: 400, body: { detail: 'month must be YYYY-MM' }, encoding });
      await h.refresh('spend_limit');
      const line = h.logs.lines().find((l) => l.api_endpoint === 'spend_limit' && l.level === 'warn');
      expect(line?.msg).toMatch(/answered HTTP 400: \{"detail":"month must be YYYY-MM"\}/);
      expect(h.logs.text()).not.toMatch(BINARY);
      expect((await h.exporter.app.inject({ url: '/' })).body).toContain('month must be YYYY-MM');
    });
  }

  it('that does not decode: described by its size and encoding', async () => {
    const h = await harness();
    h.sim.setFault('spend_limit', { kind: 'status', status: 400, body: 'plain text, not gzip', headers: { 'content-encoding': 'gzip' } });
    await h.refresh('spend_limit');
    expect(h.logs.text()).toMatch(/answered HTTP 400: <20 bytes, gzip>/);
  });

  it('gzip without saying so: recognised by its first bytes', async () => {
    const h = await harness();
    h.sim.setFault('spend_limit', {
      kind: 'status',
      status: 502,
      body: { detail: 'bad gateway' },
      encoding: 'gzip',
      headers: { 'content-encoding': 'identity' },
    });
    await h.refresh('spend_limit');
    const line = h.logs.lines().find((l) => l.api_endpoint === 'spend_limit' && l.level === 'warn');
    expect(line?.msg).toMatch(/answered HTTP 502 after 2 retries: \{"detail":"bad gateway"\}/);
    expect(h.logs.text()).not.toMatch(BINARY);
  });
});

describe('a refresh that runs out of time while retrying', () => {
  it('says what the last attempt met, not only that the deadline passed', async () => {
    // A 5s deadline, and backoff waits of 2s then 4s: the deadline passes in the second wait, after two 503s.
    const h = await harness({
      env: { REFRESH_INTERVAL_SPEND_LIMIT: '5s' },
      retry: { maxRetries: 5, baseDelayMs: 4000, maxDelayMs: 60_000, maxRetryAfterMs: 60_000 },
    });
    h.sim.setFault('spend_limit', { kind: 'status', status: 503, body: { detail: 'maintenance until 10:00' } });
    await h.refresh('spend_limit');
    const line = h.logs.lines().find((l) => l.api_endpoint === 'spend_limit' && l.level === 'warn');
    expect(line?.msg).toMatch(/refresh deadline of 5s passed; the last attempt: .*answered HTTP 503.*maintenance until 10:00/);
    expect((await h.exporter.app.inject({ url: '/' })).body).toMatch(/the last attempt: .*answered HTTP 503/);
  });
});

/** Starts the exporter with `env`, returns its log lines up to the one saying it serves, then stops it. */
function startupLines(env: Record<string, string>): Promise<Array<{ level: string; msg: string }>> {
  const main = new URL('../src/main.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: '0', MISTRAL_ADMIN_API_KEY: CANARY_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('serving /metrics on')) child.kill('SIGTERM');
    });
    child.on('exit', () => {
      if (!out.includes('serving /metrics on')) reject(new Error(`the exporter did not start: ${err}${out}`));
      const lines = out.split('\n').filter((l) => l.startsWith('{'));
      resolve(
        lines
          .map((l) => JSON.parse(l) as { level: string; msg: string })
          .filter((_line, i, all) => i <= all.findIndex((x) => x.msg.includes('serving'))),
      );
    });
  });
}

describe('a plain-http Admin API URL', () => {
  it('is warned about once at start, unless it is loopback', async () => {
    const remote = await startupLines({ MISTRAL_ADMIN_API_URL: 'http://admin-api.example.invalid/api/admin', REFRESH_INTERVAL: '10m' });
    const warnings = remote.filter((l) => l.level === 'warn' && /plain http/.test(l.msg));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(/the admin key is sent readable to admin-api\.example\.invalid.*use https:\/\//);

    for (const url of ['http://[::1]:9/api/admin', 'https://admin-api.example.invalid']) {
      const lines = await startupLines({ MISTRAL_ADMIN_API_URL: url, REFRESH_INTERVAL: '10m' });
      expect(
        lines.filter((l) => /plain http/.test(l.msg)),
        url,
      ).toEqual([]);
    }
  });
});
