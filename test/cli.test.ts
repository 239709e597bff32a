import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/index.js';

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The environment of a clean shell: no key, nothing of ours. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  return { ...env, ...extra };
}

function runOnce(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: cleanEnv(env), encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A running exporter process, its log lines, and the port it listens on. */
class Running {
  readonly lines: string[] = [];
  private buffer = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      const parts = this.buffer.split('\n');
      this.buffer = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  async port(): Promise<number> {
    for (let i = 0; i < 400; i++) {
      const line = this.lines.find((l) => l.includes('serving /metrics on'));
      const m = line ? /:(\d+)"?,?/.exec(JSON.parse(line).msg as string) : null;
      if (m) return Number(m[1]);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no listening line; logs:\n${this.lines.join('\n')}`);
  }

  async ready(port: number): Promise<void> {
    for (let i = 0; i < 400; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/-/ready`).catch(() => undefined);
      if (res?.status === 200) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('never ready');
  }
}

let running: Running | undefined;
let sim: Simulator | undefined;
afterEach(async () => {
  if (running && running.child.exitCode === null) {
    running.child.kill('SIGKILL');
    await running.exited;
  }
  running = undefined;
  await sim?.close();
  sim = undefined;
});

function start(args: string[], env: Record<string, string>): Running {
  running = new Running(
    spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: cleanEnv({ PORT: '0', HOST: '127.0.0.1', ...env }) }),
  );
  return running;
}

describe('the command line', () => {
  it('--version prints the version', () => {
    const r = runOnce(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });

  it('--help lists the settings and how to run the demo', () => {
    const r = runOnce(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('mistral-admin-exporter --demo');
    expect(r.stdout).toContain('env MISTRAL_ADMIN_API_KEY;');
    expect(r.stdout).toContain('--refresh-interval DURATION');
    expect(r.stdout).toContain('--web.config.file PATH');
  });

  it.each<[string, string[], Record<string, string>, RegExp]>([
    ['no key', [], {}, /^mistral-admin-exporter: MISTRAL_ADMIN_API_KEY is not set: .*--demo\)\n$/],
    [
      'an empty key (a mis-mounted secret)',
      [],
      { MISTRAL_ADMIN_API_KEY: '' },
      /^mistral-admin-exporter: MISTRAL_ADMIN_API_KEY is set but empty; is the Secret mounted\?\n$/,
    ],
    [
      'a bad interval',
      [],
      { MISTRAL_ADMIN_API_KEY: 'k', REFRESH_INTERVAL: '5x' },
      /^mistral-admin-exporter: REFRESH_INTERVAL="5x": not a duration .*\n$/,
    ],
    ['an unknown flag', ['--bogus'], { MISTRAL_ADMIN_API_KEY: 'k' }, /^mistral-admin-exporter: Unknown option '--bogus' \(see --help\)\n$/],
    [
      'a demo profile without --demo',
      ['--demo-profile', 'odd-shapes'],
      { MISTRAL_ADMIN_API_KEY: 'k' },
      /^mistral-admin-exporter: --demo-profile: only with --demo .*\n$/,
    ],
    [
      'an unknown demo profile',
      ['--demo', '--demo-profile', 'weird'],
      {},
      /^mistral-admin-exporter: --demo-profile="weird": use one of typical, odd-shapes\n$/,
    ],
    [
      'a web config that cannot be used',
      [],
      { MISTRAL_ADMIN_API_KEY: 'k', WEB_CONFIG_FILE: '/nonexistent/web-config.yml' },
      /^mistral-admin-exporter: WEB_CONFIG_FILE="\/nonexistent\/web-config.yml": cannot read the file \(ENOENT\)\n$/,
    ],
  ])('stops at once on %s, with one line and exit code 2', (_name, args, env, message) => {
    const r = runOnce(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('runs the odd-shapes demo: what the exporter reads, refuses and cannot price, in plain sight', async () => {
    const demo = start(['--demo', '--demo-profile', 'odd-shapes'], {});
    const port = await demo.port();
    await demo.ready(port);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('mistral_up{api_endpoint="usage"} 1');
    // No tier assumed: entries naming none, priced differently by tier, are counted and left out.
    expect(metrics).toMatch(/^mistral_usage_ambiguous_price_entries\{category="[a-z_]+",field="service_tier"\} [1-9]/m);
    // Negative amounts are refused as unreadable; the legacy Vibe amount is served as given.
    expect(metrics).toMatch(/^mistral_exporter_unreadable_entries\{api_endpoint="usage",reason="not_a_number"\} [1-9]/m);
    expect(metrics).toMatch(/^mistral_usage_legacy_vibe_amount\{currency="EUR"\} [1-9]/m);
    // Yesterday is not loaded: the analytics windows need it, so none is published; the gauge says how far the data goes.
    expect(metrics).toMatch(/^mistral_analytics_complete_until_timestamp_seconds\{api_endpoint="vibe_by_organization"\} \d/m);
    expect(metrics).not.toMatch(/^mistral_vibe_sessions\{/m);
    demo.child.kill('SIGTERM');
    expect(await demo.exited).toBe(0);
  });

  it('says which address is taken when it cannot listen', async () => {
    const demo = start(['--demo'], {});
    const port = await demo.port();
    const r = runOnce(['--demo'], { PORT: String(port), HOST: '127.0.0.1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`cannot listen on 127.0.0.1:${port} \\(EADDRINUSE\\); set HOST or PORT`));
  });

  it('runs the demo with no key, serves simulated spend, and stops cleanly on SIGTERM', async () => {
    const demo = start(['--demo'], {});
    const port = await demo.port();
    await demo.ready(port);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^mistral_spend\{currency="EUR",product="api"\} \d/m);
    expect(metrics).toContain('mistral_up{api_endpoint="usage"} 1');
    expect(demo.lines.some((l) => l.includes('DEMO MODE'))).toBe(true);
    expect((await fetch(`http://127.0.0.1:${port}/`)).headers.get('content-type')).toContain('text/html');
    demo.child.kill('SIGTERM');
    expect(await demo.exited).toBe(0);
    expect(demo.lines.some((l) => l.includes('"shutting down"'))).toBe(true);
  });

  it('runs the demo for the organizations of a config file: one simulated organization each, every series labelled org', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgs-cli-'));
    const file = join(dir, 'organizations.yaml');
    writeFileSync(file, 'organizations:\n  - name: acme-prod\n  - name: acme-labs\n    MISTRAL_ENDPOINTS: spend_limit,usage\n');
    const demo = start(['--demo', '--config.file', file], {});
    const port = await demo.port();
    await demo.ready(port);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^mistral_spend\{org="acme-prod",currency="EUR",product="api"\} \d/m);
    expect(metrics).toMatch(/^mistral_spend\{org="acme-labs",currency="EUR",product="api"\} \d/m);
    expect(metrics).toContain('mistral_up{org="acme-labs",api_endpoint="usage"} 1');
    // acme-labs reads two endpoints only: its own settings.
    expect(metrics).not.toContain('mistral_up{org="acme-labs",api_endpoint="rate_limit"}');
    expect(metrics).toContain('mistral_up{org="acme-prod",api_endpoint="rate_limit"} 1');
    expect(demo.lines.some((l) => l.includes('"org":"acme-labs"') && l.includes('reading organization acme-labs'))).toBe(true);
    demo.child.kill('SIGTERM');
    expect(await demo.exited).toBe(0);

    const check = runOnce(['check', '--demo', '--config.file', file]);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^Organization acme-prod\n/);
    expect(check.stdout).toMatch(/\nOrganization acme-labs\n/);
  });

  it('reads a real Admin API with the key from a file, and never prints the key', async () => {
    const key = 'canary-cli-Hk2p9QzR7w';
    sim = await startSimulator({ apiKey: key });
    const dir = mkdtempSync(join(tmpdir(), 'mae-'));
    writeFileSync(join(dir, 'key'), `${key}\n`);
    const hashKey = 'canary-hash-Vt6yN1';
    const real = start(['--refresh-interval', '1h', '--analytics-refresh-interval', '1h', '--max-staleness', '2h'], {
      MISTRAL_ADMIN_API_KEY_FILE: join(dir, 'key'),
      MISTRAL_ADMIN_API_URL: sim.url,
      LECHAT_USER_METRICS: 'true',
      LECHAT_USER_ID_HASH_KEY: hashKey,
      LOG_LEVEL: 'debug',
    });
    const port = await real.port();
    await real.ready(port);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('mistral_up{api_endpoint="spend_limit"} 1');
    expect(metrics).not.toContain(key);
    expect(metrics).not.toContain(hashKey);
    expect(metrics).toMatch(/^mistral_lechat_user_messages\{user_id="[0-9a-f]{16}",window="30d"\} \d+$/m);
    expect(real.lines.some((l) => l.includes('DEMO'))).toBe(false);
    real.child.kill('SIGINT');
    expect(await real.exited).toBe(0);
    expect(real.lines.join('\n')).not.toContain(key);
    expect(real.lines.join('\n')).not.toContain(hashKey);
    expect(sim.requests.every((r) => r.method === 'GET')).toBe(true);
  });
});
