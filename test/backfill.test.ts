import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKFILL_ENDPOINTS } from '../src/backfill/endpoints.js';
import { runBackfill, type BackfillDeps } from '../src/backfill/run.js';
import { systemClock, type Clock } from '../src/clock.js';
import { helpText, loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/logger.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { UnreadableTally } from '../src/sources/unreadable.js';
import { readUsage } from '../src/sources/usage.js';
import { startPrometheus, type RunningPrometheus } from './support/prometheus.js';
import { clockEnv, hasTool, promtool } from './support/tools.js';

const KEY = 'backfill-test-key-0123456789';
const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
/** The simulated "now": 2026-12-01 10:00 UTC; the months before are complete. */
const NOW = Date.UTC(2026, 11, 1, 10);
const clock: Clock = { ...systemClock, now: () => NOW };

const dirs: string[] = [];
let sim: Simulator | undefined;
let prometheus: RunningPrometheus | undefined;
afterEach(async () => {
  await prometheus?.stop();
  prometheus = undefined;
  await sim?.close();
  sim = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** What the run printed on its stderr (the progress bar, the key must never be in it). */
function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

function backfillCommand(argv: string[], env: Record<string, string> = {}) {
  const command = loadConfig({
    argv: ['backfill', ...argv, '--requests-per-second', '200'],
    env: { MISTRAL_ADMIN_API_KEY: KEY, MISTRAL_ADMIN_API_URL: (sim as Simulator).url, USAGE_ASSUMED_SERVICE_TIER: 'standard', ...env },
  });
  if (command.kind !== 'backfill') throw new Error(`expected backfill, got ${command.kind}`);
  return command;
}

function deps(stderr: Writable, extra: Partial<BackfillDeps> = {}): BackfillDeps {
  const logs = capture();
  return { logger: createLogger({ level: 'warn', secrets: [KEY], destination: logs.stream }), stderr, clock, ...extra };
}

/** The simulator's requests whose month (usage) or window start (analytics) is in `yearMonth`. */
function requestsFor(s: Simulator, yearMonth: string): number {
  const [year, month] = yearMonth.split('-').map(Number) as [number, number];
  const start = String(Date.UTC(year, month - 1, 1) / 1000);
  return s.requests.filter((r) => (Number(r.query.month) === month && Number(r.query.year) === year) || r.query.start_time === start)
    .length;
}

describe('backfill against the simulator', () => {
  it('writes one OpenMetrics file per month, in time order per series, ending in # EOF, without the key', async () => {
    sim = await startSimulator({ now: clock.now, apiKey: KEY });
    const out = tempDir('mae-backfill-');
    const stderr = capture();
    const { config, backfill } = backfillCommand(['--from', '2026-09', '--to', '2026-10', '--output', out]);
    const result = await runBackfill(config, backfill, deps(stderr.stream));

    expect(result.failed).toEqual([]);
    expect(readdirSync(out).sort()).toEqual(['2026-09.om', '2026-10.om']);
    const text = readFileSync(join(out, '2026-10.om'), 'utf8');
    expect(text.endsWith('\n# EOF\n')).toBe(true);
    expect(text.match(/^# EOF$/gm)).toHaveLength(1);
    // One HELP/TYPE per family, and each series' timestamps strictly increasing, one a day.
    const names = [...text.matchAll(/^# TYPE (\S+) gauge$/gm)].map((m) => m[1]);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['mistral_usage_cost', 'mistral_lechat_daily_active_users', 'mistral_vibe_sessions']));
    const last = new Map<string, number>();
    for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      const m = /^(\S+?(?:\{.*\})?) (\S+) (\d+)$/.exec(line);
      expect(m, line).not.toBeNull();
      const [series, ts] = [m?.[1] as string, Number(m?.[3])];
      expect(ts % 86_400).toBe(86_399); // 23:59:59 UTC
      const before = last.get(series);
      if (before !== undefined) expect(ts - before).toBe(86_400);
      last.set(series, ts);
    }
    expect(stderr.text()).toMatch(/2\/2|month parts/);
    expect(stderr.text()).not.toContain(KEY);
    expect(sim.requests.every((r) => r.method === 'GET')).toBe(true);
  }, 60_000);

  it('--org: one organization of a config file, every sample labelled with it as its live series are', async () => {
    sim = await startSimulator({ now: clock.now, apiKey: KEY });
    const out = tempDir('mae-backfill-org-');
    const file = join(tempDir('mae-orgs-'), 'organizations.yaml');
    writeFileSync(
      file,
      `organizations:\n  - name: other\n    MISTRAL_ADMIN_API_KEY: nope\n  - name: acme\n    MISTRAL_ADMIN_API_KEY: ${KEY}\n    MISTRAL_ADMIN_API_URL: ${sim.url}\n`,
    );
    const command = loadConfig({
      argv: [
        'backfill',
        '--config.file',
        file,
        '--org',
        'acme',
        '--from',
        '2026-10',
        '--to',
        '2026-10',
        '--output',
        out,
        '--requests-per-second',
        '200',
      ],
      env: { USAGE_ASSUMED_SERVICE_TIER: 'standard' },
    });
    if (command.kind !== 'backfill') throw new Error(`expected backfill, got ${command.kind}`);
    const result = await runBackfill(command.config, command.backfill, deps(capture().stream));
    expect(result.failed).toEqual([]);
    const lines = readFileSync(join(out, '2026-10.om'), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines.length).toBeGreaterThan(100);
    for (const line of lines) expect(line, line).toMatch(/^[a-z_]+\{org="acme"[,}]/);
  }, 60_000);

  it('resumes after an interruption without asking again for the months already written', async () => {
    sim = await startSimulator({ now: clock.now, apiKey: KEY });
    const out = tempDir('mae-backfill-resume-');
    const stop = new AbortController();
    const { config, backfill } = backfillCommand(['--from', '2026-08', '--to', '2026-10', '--output', out], {
      MISTRAL_WORKSPACE_IDS: sim.truth.workspaceIds.slice(0, 2).join(','),
    });
    const first = await runBackfill(config, backfill, deps(capture().stream, { signal: stop.signal, onWritten: () => stop.abort() }));
    expect(first.interrupted).toBe(true);
    expect(first.written).toEqual(['2026-08.om']);
    const askedForAugust = requestsFor(sim, '2026-08');
    expect(askedForAugust).toBeGreaterThan(0);
    expect(requestsFor(sim, '2026-09')).toBe(0);

    const before = sim.requests.length;
    const second = await runBackfill(config, backfill, deps(capture().stream));
    expect(second.skipped).toEqual(['2026-08.om']);
    expect(second.written).toEqual(['2026-09.om', '2026-10.om']);
    expect(requestsFor(sim, '2026-08')).toBe(askedForAugust);
    expect(sim.requests.length - before).toBe(second.requests);

    // The resumed output is the same as an uninterrupted run's.
    const whole = tempDir('mae-backfill-whole-');
    await runBackfill(config, { ...backfill, output: whole }, deps(capture().stream));
    for (const f of readdirSync(whole)) expect(readFileSync(join(out, f), 'utf8')).toBe(readFileSync(join(whole, f), 'utf8'));
    expect(readdirSync(out).sort()).toEqual(readdirSync(whole).sort());
  }, 60_000);

  it("leaves to the live exporter what it serves in the current month: the last day's analytics of the month before", async () => {
    sim = await startSimulator({ now: clock.now, apiKey: KEY });
    const out = tempDir('mae-backfill-last-');
    const { config, backfill } = backfillCommand(['--from', '2026-11', '--to', '2026-11', '--output', out]);
    await runBackfill(config, backfill, deps(capture().stream));
    const text = readFileSync(join(out, '2026-11.om'), 'utf8');
    const stamps = (name: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
        .map((l) => Number(l.split(' ').at(-1)));
    const decemberFirst = Date.UTC(2026, 11, 1) / 1000;
    // usage through November 30th, at its last second; le Chat's last day served is November 29th (stamped on the 30th).
    expect(Math.max(...stamps('mistral_usage_cost'))).toBe(decemberFirst - 1);
    expect(Math.max(...stamps('mistral_lechat_daily_active_users'))).toBe(decemberFirst - 1);
    // Its first: November 1st's, at November 2nd 23:59:59 (October 31st's is not read).
    expect(Math.min(...stamps('mistral_lechat_daily_active_users'))).toBe(Date.UTC(2026, 10, 3) / 1000 - 1);
  }, 60_000);

  it('writes no month with a part missing, keeps the parts it read, and asks only for the missing one again', async () => {
    sim = await startSimulator({ now: clock.now, apiKey: KEY });
    const out = tempDir('mae-backfill-part-');
    sim.setFault('lechat_by_time', { kind: 'malformed', variant: 'wrong-shape' }, 1);
    const { config, backfill } = backfillCommand(['--from', '2026-10', '--to', '2026-10', '--output', out]);
    const first = await runBackfill(config, backfill, deps(capture().stream));
    expect(first.written).toEqual([]);
    expect(first.failed.map((f) => f.file)).toEqual(['2026-10 lechat_by_time']);
    expect(readdirSync(out)).toEqual(['.parts']);

    const before = sim.requests.length;
    const second = await runBackfill(config, backfill, deps(capture().stream));
    expect(second.written).toEqual(['2026-10.om']);
    expect(sim.requests.slice(before).map((r) => r.endpoint)).toEqual(['lechat_by_time']);
    expect(readdirSync(out)).toEqual(['2026-10.om']);
    expect(readFileSync(join(out, '2026-10.om'), 'utf8')).toContain('mistral_lechat_daily_active_users ');
  }, 60_000);

  it('says to leave out an endpoint the organization does not have, and writes the months without it', async () => {
    sim = await startSimulator({ now: clock.now, apiKey: KEY });
    sim.setFault('vibe_by_organization', { kind: 'status', status: 403, body: { detail: 'Forbidden' } });
    const out = tempDir('mae-backfill-403-');
    const all = backfillCommand(['--from', '2026-10', '--to', '2026-10', '--output', out]);
    const refused = await runBackfill(all.config, all.backfill, deps(capture().stream));
    expect(refused.written).toEqual([]);
    expect(refused.failed[0]?.error).toMatch(/leave vibe_by_organization out of MISTRAL_ENDPOINTS/);

    const without = backfillCommand(['--from', '2026-10', '--to', '2026-10', '--output', out], {
      MISTRAL_ENDPOINTS: 'usage,lechat_by_time,vibe_by_workspace',
    });
    const result = await runBackfill(without.config, without.backfill, deps(capture().stream));
    expect(result.written).toEqual(['2026-10.om']);
    expect(readFileSync(join(out, '2026-10.om'), 'utf8')).not.toContain('mistral_vibe_next_edit');
  }, 60_000);

  it('refuses a month that is not over yet', async () => {
    sim = await startSimulator({ now: clock.now, apiKey: KEY });
    const { config, backfill } = backfillCommand(['--from', '2026-11', '--to', '2026-12', '--output', tempDir('mae-backfill-now-')]);
    await expect(runBackfill(config, backfill, deps(capture().stream))).rejects.toThrow(/--to=2026-12: that month is not over yet/);
    expect(sim.requests).toHaveLength(0);
  });

  it('reads the flags, and refuses them on another command', () => {
    const env = { MISTRAL_ADMIN_API_KEY: KEY };
    expect(() => loadConfig({ argv: ['backfill', '--from', '2026-13', '--to', '2026-11', '--output', 'x'], env })).toThrow(/--from/);
    expect(() => loadConfig({ argv: ['backfill', '--from', '2026-05', '--to', '2026-01', '--output', 'x'], env })).toThrow(/after --to/);
    expect(() => loadConfig({ argv: ['backfill', '--from', '2026-01', '--to', '2026-02'], env })).toThrow(/--output DIR/);
    expect(() => loadConfig({ argv: ['--from', '2026-01'], env })).toThrow(/only for backfill/);
    const rate = ['backfill', '--from', '2026-01', '--to', '2026-02', '--output', 'x'];
    expect(() => loadConfig({ argv: rate, env: { ...env, BACKFILL_REQUESTS_PER_SECOND: '0' } })).toThrow(/BACKFILL_REQUESTS_PER_SECOND/);
    const ok = loadConfig({ argv: rate, env: { ...env, BACKFILL_REQUESTS_PER_SECOND: '0.5' } });
    expect(ok.kind === 'backfill' && ok.backfill.requestsPerSecond).toBe(0.5);
  });
});

const tools = hasTool('promtool') && hasTool('prometheus');

describe.runIf(tools)('backfilled history in a real Prometheus', () => {
  it('builds blocks with promtool, and Prometheus answers past values equal to the simulator truth', async () => {
    sim = await startSimulator({ now: clock.now, apiKey: KEY });
    const workspaces = sim.truth.workspaceIds.slice(0, 2);
    const out = tempDir('mae-backfill-om-');
    const { config, backfill } = backfillCommand(['--from', '2026-09', '--to', '2026-10', '--output', out], {
      MISTRAL_WORKSPACE_IDS: workspaces.join(','),
    });
    const result = await runBackfill(config, backfill, deps(capture().stream));
    expect(result.written).toEqual(['2026-09.om', '2026-10.om']);

    const promDir = tempDir('mae-backfill-prom-');
    for (const f of result.written) {
      const r = promtool(['tsdb', 'create-blocks-from', 'openmetrics', join(out, f), join(promDir, 'data')]);
      expect(r.status, r.output).toBe(0);
    }
    // Backfilled blocks older than the retention are deleted at once: keep them.
    prometheus = await startPrometheus(promDir, 'global: {scrape_interval: 1m}\n', ['--storage.tsdb.retention.time=10y']);
    const query = async (expr: string, time: number): Promise<number | undefined> => {
      for (let i = 0; i < 120; i++) {
        const res = await fetch(`${prometheus?.url}/api/v1/query?query=${encodeURIComponent(expr)}&time=${time}`).catch(() => undefined);
        const body = res?.ok ? ((await res.json()) as { data: { result: Array<{ value: [number, string] }> } }) : undefined;
        if (body) return body.data.result[0] === undefined ? undefined : Number(body.data.result[0].value[1]);
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`Prometheus never answered:\n${prometheus?.log.join('')}`);
    };

    // September's cost of a workspace, at the month's last second: its whole month, as the truth has it.
    const endOfSeptember = Date.UTC(2026, 9, 1) / 1000 - 1;
    const ws = workspaces[0] as string;
    const cost = await query(`sum(mistral_usage_cost{workspace_id="${ws}"})`, endOfSeptember);
    const truth = sim.truth.usage({ year: 2026, month: 9, workspaceId: ws });
    expect(cost).toBeCloseTo(Number(truth.totalCost), 6);
    // Mid-month, the month-to-date through that day: what the simulator answered at midnight after it.
    const midSeptember = Date.UTC(2026, 8, 15);
    const then = await startSimulator({ now: () => midSeptember });
    const truthThen = then.truth.usage({ workspaceId: ws });
    await then.close();
    const mtd = await query(`sum(mistral_usage_cost{workspace_id="${ws}"})`, midSeptember / 1000 - 1);
    expect(mtd).toBeLessThan(cost as number);
    expect(mtd).toBeCloseTo(Number(truthThen.totalCost), 6);

    // le Chat's daily active users of 2026-10-14, served as the last complete day at 2026-10-15 23:59:59.
    const day = Date.UTC(2026, 9, 14) / 1000;
    const users = await query('mistral_lechat_daily_active_users', day + 2 * 86_400 - 1);
    expect(users).toBe(sim.truth.lechat(day, day + 86_400).activeUsers);
    // Vibe Code's sessions of that day, summed over the configured workspaces.
    const sessions = await query('sum(mistral_vibe_sessions{window="1d",client="cli"})', day + 2 * 86_400 - 1);
    const vibe = workspaces.reduce((n, w) => n + sim!.truth.vibe(day, day + 86_400, w).sessions.cli, 0);
    expect(sessions).toBe(vibe);
  }, 180_000);
});

it('reads the day of each usage entry from its timestamp, and none where it has none', () => {
  const entry = (extra: object) => ({ event_type: 'api_tokens', billing_group: 'input', value: 10, value_paid: 10, ...extra });
  const body = {
    completion: {
      models: { 'm::m-1': { input: [entry({ timestamp: '2026-10-03T00:00:00Z' }), entry({ timestamp: 'soon' }), entry({})] } },
    },
    prices: [],
  };
  expect(readUsage(body, undefined, new UnreadableTally()).entries.map((e) => e.day)).toEqual([Date.UTC(2026, 9, 3), undefined, undefined]);
});

describe('the CLI', () => {
  it('backfill --demo writes last month from the built-in simulator, with a progress line and a summary on stderr', () => {
    const out = tempDir('mae-backfill-cli-');
    const now = new Date();
    const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', MAIN, 'backfill', '--demo', '--from', last, '--to', last, '--output', out, '--requests-per-second', '100'],
      // The test's clock (faketime's, when it runs under it), so that both agree on which month is over.
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...clockEnv() }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out)).toEqual([`${last}.om`]);
    expect(r.stderr).toContain('DEMO MODE');
    expect(r.stderr).toMatch(/backfill \[=+\] 4\/4 month parts \| done/);
    expect(r.stderr).toContain('1 files written');
    expect(r.stdout).toBe('');
  }, 90_000);
});

it('is documented in --help: the command, its flags and the promtool step', () => {
  const help = helpText('0.0.0');
  for (const text of [
    'backfill --from YYYY-MM --to YYYY-MM --output DIR',
    '--requests-per-second N',
    'BACKFILL_REQUESTS_PER_SECOND',
    'promtool tsdb create-blocks-from openmetrics',
  ]) {
    expect(help).toContain(text);
  }
});

it('knows which endpoints have a daily history', () => {
  expect([...BACKFILL_ENDPOINTS]).toEqual(['usage', 'lechat_by_time', 'vibe_by_workspace', 'vibe_by_organization']);
});
