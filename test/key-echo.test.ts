/**
 * An upstream (or a proxy in front of it) that echoes the key back (issue
 * 10, defect 5): in an error message, in a value, in a model name, a
 * currency, as it is, JSON-escaped or URL-encoded. The key must reach no log
 * line, no label, no status page, not even its start; nor must the key that
 * hashes user ids. The logs are captured without the
 * logger's scrubbing safety net, so a leak anywhere upstream of it shows.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/index.js';
import { captureLogs } from './support/logs.js';
import { type Harness, useHarness, valueOf } from './support/harness.js';

const harness = useHarness();

/** 64 characters: a value cut to 40 before it is scrubbed would keep 40 of them. */
const LONG_KEY = 'canary64-Qx2pL9vRk4mZt8sWn3bY7hJ5dF1gA6cE0uI2oP4aS8dF3gH7jK1lZ9x';
/** JSON and URLs escape these characters: a scrubbing of the raw form alone misses them. */
const ESCAPED_KEY = 'canary"quote\\back/slash+plus=eq&amp-9f8e7d6c5b4a';

/** Every form the key could be shown in, and every 12-character piece of each. */
function leaks(out: string, key: string): string[] {
  const html = key.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const forms = [key, JSON.stringify(key).slice(1, -1), encodeURIComponent(key), html, JSON.stringify(JSON.stringify(key).slice(1, -1))];
  const found: string[] = [];
  for (const form of forms) {
    for (let i = 0; i + 12 <= form.length; i++) {
      const piece = form.slice(i, i + 12);
      if (out.includes(piece)) found.push(piece);
    }
  }
  return [...new Set(found)];
}

async function outputs(h: Harness): Promise<Record<string, string>> {
  return {
    logs: h.logs.text(),
    metrics: await h.scrape(),
    openmetrics: await h.scrape({ accept: 'application/openmetrics-text; version=1.0.0' }),
    'status page': (await h.exporter.app.inject({ url: '/' })).body,
  };
}

/** The echoing answers: an error message, a value where a number belongs, a model name; raw, JSON-escaped and URL-encoded. */
function echoEverywhere(h: Harness): void {
  h.sim.setFault(
    'spend_limit',
    { kind: 'echo-key', status: 400, body: '{"detail":"key {key:json} may not read this","request_id":"r1"}' },
    1,
  );
  // The next answer is good, in a currency that is the key: the status page's spend card shows it.
  h.sim.setFault('spend_limit', {
    kind: 'echo-key',
    status: 200,
    body: '{"limits":{"currency":"{key:json}","completion":{"usage":12.5,"usage_limit":100,"monthly_limit_reached":false}}}',
  });
  h.sim.setFault('usage', {
    kind: 'echo-key',
    status: 500,
    body: 'upstream GET https://example.invalid/v1/usage?api_key={key:url} failed',
  });
  h.sim.setFault('workspaces', { kind: 'echo-key', status: 200, body: '{"data": "{key:json}"}' });
  h.sim.setFault('rate_limit', {
    kind: 'echo-key',
    status: 200,
    body: '{"requests_per_second":"{key:json}","tokens_limits_by_model":{"mistral-{key:json}":{"tokens_per_minute":7,"tokens_per_month":8}}}',
  });
}

describe('a key echoed by the Admin API', () => {
  for (const [name, key] of [
    ['a 64-character key', LONG_KEY],
    ['a key with characters JSON and URLs escape', ESCAPED_KEY],
  ] as const) {
    it(`${name}: not in logs, /metrics or the status page, nor any piece of it`, async () => {
      const h = await harness({ key });
      echoEverywhere(h);
      await h.refreshAll();
      const failed = await outputs(h);
      await h.refresh('spend_limit');
      const answered = await outputs(h);
      // The echoes did arrive, and were shown, redacted: in an error, then as the spend's currency.
      expect(failed.logs).toContain('[REDACTED]');
      expect(failed['status page']).toMatch(/<dd class="error">[^<]*\[REDACTED\]/);
      expect(answered['status page']).toMatch(/<data class="spent" value="12.5">12.50 \[REDACTED\]<\/data>/);
      for (const [where, text] of Object.entries({ ...failed, ...answered })) expect(leaks(text, key), where).toEqual([]);
    });
  }

  it('in a model name: the series is kept, with [REDACTED] where the key was in its label', async () => {
    const h = await harness({ key: LONG_KEY });
    h.sim.setFault('rate_limit', {
      kind: 'echo-key',
      status: 200,
      body: '{"requests_per_second":5,"tokens_limits_by_model":{"mistral-{key}":{"tokens_per_minute":7,"tokens_per_month":8}}}',
    });
    await h.refresh('rate_limit');
    const text = await h.scrape();
    expect(valueOf(text, 'mistral_rate_limit_tokens_per_minute', { model: 'mistral-[REDACTED]' })).toBe(7);
    expect(leaks(text, LONG_KEY)).toEqual([]);
  });
});

describe('the key that hashes user ids', () => {
  it('is not on the status page when an answer quotes it, in any form', async () => {
    const h = await harness({ env: { LECHAT_USER_ID_HASH_KEY: ESCAPED_KEY } });
    h.sim.setFault('lechat_by_user', {
      kind: 'status',
      status: 400,
      body: `{"detail":"${JSON.stringify(ESCAPED_KEY).slice(1, -1)} or ${encodeURIComponent(ESCAPED_KEY)}"}`,
    });
    await h.refresh('lechat_by_user');
    const page = (await h.exporter.app.inject({ url: '/' })).body;
    expect(page).toMatch(/<dd class="error">[^<]*\[REDACTED\] or \[REDACTED\]/);
    expect(leaks(page, ESCAPED_KEY)).toEqual([]);
  });
});

describe('the logger', () => {
  it('scrubs a key with quotes and backslashes in the form JSON lines carry it', () => {
    const logs = captureLogs({ secrets: [ESCAPED_KEY] });
    logs.logger.warn(
      { detail: `echoed ${ESCAPED_KEY}`, url: `https://x.invalid/?k=${encodeURIComponent(ESCAPED_KEY)}` },
      `bad ${ESCAPED_KEY}`,
    );
    logs.logger.warn({ nested: JSON.stringify({ body: ESCAPED_KEY }) }, 'an answer quoted whole');
    expect(logs.lines()).toHaveLength(2);
    expect(leaks(logs.text(), ESCAPED_KEY)).toEqual([]);
  });
});

describe('a key that cannot be sent in an HTTP header', () => {
  const key = 'sk-café-0123456789abcdef';

  it('is refused by the configuration in one line that names the setting and not the key', () => {
    const load = () => loadConfig({ argv: [], env: { MISTRAL_ADMIN_API_KEY: key } });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/^MISTRAL_ADMIN_API_KEY: the key cannot be sent in an HTTP header: .*not ASCII.*; check how it was copied$/);
    expect(load).not.toThrow(/caf/);
    const fromFile = () => loadConfig({ argv: [], env: { MISTRAL_ADMIN_API_KEY_FILE: '/run/key' }, readFile: () => `${key}\n` });
    expect(fromFile).toThrow(/^MISTRAL_ADMIN_API_KEY_FILE="\/run\/key": the key cannot be sent in an HTTP header/);
  });

  it('stops the exporter at start with that line and exit code 2', () => {
    const main = new URL('../src/main.ts', import.meta.url).pathname;
    const r = spawnSync(process.execPath, ['--import', 'tsx', main], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, MISTRAL_ADMIN_API_KEY: key },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot be sent in an HTTP header/);
    expect(r.stderr + r.stdout).not.toContain('caf');
  });
});
