import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { CATALOG } from '../src/sources/catalog.js';

/** `mistral-admin-exporter check`, run as a user runs it: a real process against the simulator on loopback. */

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const KEY = 'canary-check-Rw7tX2mQ9vLp';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the exporter to its end without blocking the event loop (the simulator answers in this process). */
function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** The table's row of an endpoint, split into its cells. */
function row(stdout: string, endpoint: string): string[] {
  const line = stdout.split('\n').find((l) => l.split(/\s+/)[1] === endpoint);
  if (line === undefined) throw new Error(`no row for ${endpoint} in:\n${stdout}`);
  return line.split(/\s{2,}/);
}

/**
 * An analytics answer of the simulator to serve, as a fault, for every
 * window asked: without the window it echoes (start_time, end_time), which
 * would be another window's and refused, not read.
 */
function analyticsBody(s: Simulator, endpoint: 'lechat_by_user' | 'lechat_by_agent'): { data: Array<Record<string, unknown>> } {
  const now = Math.floor(Date.now() / 1000);
  const {
    start_time: _start,
    end_time: _end,
    ...body
  } = s.bodyFor(endpoint, {
    start_time: String(now - 30 * 86_400),
    end_time: String(now),
  }) as Record<string, unknown>;
  return body as { data: Array<Record<string, unknown>> };
}

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function simulator(): Promise<Simulator> {
  sim = await startSimulator({ apiKey: KEY, org: { users: 60, agents: 8 } });
  return sim;
}

const againstSim = (s: Simulator, extra: Record<string, string> = {}) => ({
  MISTRAL_ADMIN_API_KEY: KEY,
  MISTRAL_ADMIN_API_URL: s.url,
  ...extra,
});

describe('mistral-admin-exporter check', () => {
  it('reads every endpoint of the catalog once, prints a row for each, and exits 0 when all are read whole', async () => {
    const s = await simulator();
    const r = await run(['check'], againstSim(s));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const { id } of CATALOG) {
      const [result, , path, status, series] = row(r.stdout, id);
      expect({ id, result, status }).toEqual({ id, result: 'ok', status: '200' });
      expect(path).not.toBe('-');
      expect(Number(series)).toBeGreaterThan(0);
    }
    expect(r.stdout).toContain(`Admin API: ${s.url} (path layout auto)`);
    expect(r.stdout).toContain(`Every endpoint answered and was read whole (${CATALOG.length} of ${CATALOG.length}).`);
    // Only GETs, and nothing else was served: no listening socket, no refresh loop.
    expect(s.requests.length).toBeGreaterThan(0);
    expect(s.requests.every((q) => q.method === 'GET' && q.status === 200)).toBe(true);
    expect(r.stdout).not.toContain(KEY);
  });

  it('reads only MISTRAL_ENDPOINTS', async () => {
    const s = await simulator();
    const r = await run(['check', '--endpoints', 'spend_limit,usage'], againstSim(s));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok +spend_limit /m);
    expect(r.stdout).toMatch(/^ok +usage /m);
    expect(r.stdout).not.toMatch(/^\S+ +(rate_limit|lechat_\w+|vibe_\w+|workspaces) /m);
    expect(new Set(s.requests.map((q) => q.endpoint))).toEqual(new Set(['spend_limit', 'usage']));
  });

  it('says what to do about usage entries whose price is ambiguous by tier: set USAGE_ASSUMED_SERVICE_TIER', async () => {
    const s = await simulator();
    const r = await run(['check', '--endpoints', 'usage'], againstSim(s));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: usage entries whose unit price is ambiguous \(service_tier\).*set USAGE_ASSUMED_SERVICE_TIER/);
    const settled = await run(['check', '--endpoints', 'usage', '--usage-assumed-service-tier', 'standard'], againstSim(s));
    expect(settled.stdout).not.toContain('ambiguous');
  });

  it('exits 1 and says what to do: a 403, and an answer with an unreadable row', async () => {
    const s = await simulator();
    s.setFault('vibe_by_workspace', { kind: 'status', status: 403 });
    const body = analyticsBody(s, 'lechat_by_agent');
    const [first, ...rest] = body.data;
    const { messages_count: _dropped, ...unreadable } = first ?? {};
    s.setFault('lechat_by_agent', { kind: 'status', status: 200, body: { ...body, data: [unreadable, ...rest] } });

    const r = await run(['check'], againstSim(s));
    expect(r.code).toBe(1);
    expect(row(r.stdout, 'vibe_by_workspace')).toEqual([
      'FAILED',
      'vibe_by_workspace',
      'analytics/vibe/usage/by_workspace',
      '403',
      '-',
      '-',
      '-',
    ]);
    expect(r.stdout).toContain(
      'vibe_by_workspace: the Admin API refused access (403): the key may lack admin scope, or the plan this feature; ' +
        'an organization without Vibe Code can leave vibe_by_workspace out of MISTRAL_ENDPOINTS',
    );
    // One row missing in each of the three windows' answers: skipped, the rest read.
    const [result, , , status, series, skipped, refused] = row(r.stdout, 'lechat_by_agent');
    expect({ result, status, skipped, refused }).toEqual({ result: 'PARTIAL', status: '200', skipped: 'missing 3', refused: 'no' });
    expect(Number(series)).toBeGreaterThan(0);
    expect(r.stdout).toContain('lechat_by_agent: 3 entries of the answer could not be read and were left out (the rest is served)');
    expect(r.stdout).toMatch(/\(first: lechat by_agent_stats\.data\[0\]\.messages_count: missing\)/);
    expect(row(r.stdout, 'spend_limit')[0]).toBe('ok');
    expect(r.stdout).toContain(`2 of ${CATALOG.length} endpoints have a problem.`);
  });

  it('an answer it cannot understand is refused, and a 401 names the key', async () => {
    const s = await simulator();
    s.setFault('rate_limit', { kind: 'malformed', variant: 'wrong-shape' });
    const r1 = await run(['check', '--endpoints', 'rate_limit'], againstSim(s));
    expect(r1.code).toBe(1);
    expect(row(r1.stdout, 'rate_limit')).toMatchObject({ 0: 'FAILED', 3: '200', 4: '-' });
    expect(r1.stdout).toContain('rate_limit: the answer could not be understood');

    const r2 = await run(['check', '--endpoints', 'spend_limit'], againstSim(s, { MISTRAL_ADMIN_API_KEY: 'not-the-key-Yb4c' }));
    expect(r2.code).toBe(1);
    expect(row(r2.stdout, 'spend_limit')).toEqual(['FAILED', 'spend_limit', 'spend-limit', '401', '-', '-', '-']);
    expect(r2.stdout).toContain('spend_limit: the Admin API rejected the key (401): check MISTRAL_ADMIN_API_KEY');
  });

  it('--save-answers writes each answer as JSON, with placeholders for ids, names and emails, and never the key', async () => {
    const s = await simulator();
    // Emails and names the simulator does not serve by itself, in extra fields of each row.
    const users = analyticsBody(s, 'lechat_by_user');
    const withPeople = users.data.map((u, i) => ({ ...u, email: `person${i}@corp.example`, user_name: `Person Number${i}` }));
    s.setFault('lechat_by_user', { kind: 'status', status: 200, body: { ...users, data: withPeople } });
    const workspaces = s.bodyFor('workspaces', {}) as { items: Array<{ uuid: string; name: string }> };
    const dir = join(mkdtempSync(join(tmpdir(), 'mae-check-')), 'answers');

    const r = await run(['check', '--save-answers', dir, '--workspace-ids', workspaces.items.map((w) => w.uuid).join(',')], againstSim(s));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Answers written to ${dir} \\(\\d+ files`));

    const files = readdirSync(dir).sort();
    expect(files).toEqual(
      expect.arrayContaining([
        'lechat_by_user-1d.json',
        'lechat_by_user-7d.json',
        'lechat_by_user-30d.json',
        'requests.json',
        'spend_limit.json',
        'usage-workspace-id-0001.json',
        'workspaces.json',
      ]),
    );
    // One file per request the endpoints made, plus requests.json.
    expect(files).toHaveLength(s.requests.length + 1);
    const served = JSON.stringify(users) + JSON.stringify(workspaces);
    const originalIds = new Set(served.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g));
    expect(originalIds.size).toBeGreaterThan(10);
    for (const file of files) {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(() => JSON.parse(text), file).not.toThrow();
      expect(text, file).not.toContain(KEY);
      expect(text, file).not.toContain('@corp.example');
      expect(text, file).not.toContain('Person Number');
      expect(text, file).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
      for (const w of workspaces.items) expect(text, file).not.toContain(`"${w.name}"`);
    }
    const saved = JSON.parse(readFileSync(join(dir, 'lechat_by_user-30d.json'), 'utf8')) as { data: Array<Record<string, unknown>> };
    expect(saved.data.length).toBe(users.data.length);
    expect(saved.data[0]).toMatchObject({
      user_id: expect.stringMatching(/^id-\d{4}$/),
      email: expect.stringMatching(/^user-\d{4}@example\.invalid$/),
    });
    // The same user keeps the same placeholder from one window's answer to the next.
    const inWeek = JSON.parse(readFileSync(join(dir, 'lechat_by_user-7d.json'), 'utf8')) as { data: Array<{ user_id: string }> };
    expect(inWeek.data.every((u) => saved.data.some((v) => v.user_id === u.user_id))).toBe(true);
    const index = JSON.parse(readFileSync(join(dir, 'requests.json'), 'utf8')) as { requests: Array<{ file: string; endpoint: string }> };
    expect(index.requests.map((q) => q.file).sort()).toEqual(files.filter((f) => f !== 'requests.json'));
  });

  it('runs against the built-in simulator with --demo and no key', async () => {
    const r = await run(['check', '--demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Admin API: http:\/\/127\.0\.0\.1:\d+\/api\/admin \(the built-in simulator, --demo: simulated data\)$/m);
    for (const { id } of CATALOG) expect(row(r.stdout, id)[0]).toBe('ok');
  });

  it('reports a refused connection to a URL of its own at once, without retrying it', async () => {
    const port = await closedPort();
    const r = await run(['check', '--endpoints', 'spend_limit,usage'], {
      MISTRAL_ADMIN_API_KEY: KEY,
      MISTRAL_ADMIN_API_URL: `http://127.0.0.1:${port}/api/admin`,
      LOG_LEVEL: 'debug',
    });
    expect(r.code).toBe(1);
    expect(row(r.stdout, 'spend_limit')).toEqual(['FAILED', 'spend_limit', 'spend-limit', 'ECONNREFUSED', '-', '-', '-']);
    expect(r.stdout).toContain(
      `every endpoint: 127.0.0.1:${port} refused the connection: check the host and port of MISTRAL_ADMIN_API_URL, and HTTPS_PROXY/NO_PROXY`,
    );
    // The client logs each retry at debug level: there was none.
    expect(r.stderr).not.toContain('retrying');
  });

  it.each<[string, string[], Record<string, string>, RegExp]>([
    ['no key (as a start)', ['check'], {}, /^mistral-admin-exporter: MISTRAL_ADMIN_API_KEY is not set: .*--demo\)\n$/],
    [
      'a bad interval',
      ['check'],
      { MISTRAL_ADMIN_API_KEY: KEY, REFRESH_INTERVAL: '5x' },
      /^mistral-admin-exporter: REFRESH_INTERVAL="5x": not a duration .*\n$/,
    ],
    [
      'an unknown command',
      ['chek'],
      { MISTRAL_ADMIN_API_KEY: KEY },
      /^mistral-admin-exporter: unknown command "chek": the commands are check, backfill, focus \(see --help\)\n$/,
    ],
    [
      'an answers directory that cannot be made',
      ['check', '--save-answers', '/dev/null/answers'],
      { MISTRAL_ADMIN_API_KEY: KEY },
      /^mistral-admin-exporter: --save-answers="\/dev\/null\/answers": cannot create the directory \(ENOTDIR\)\n$/,
    ],
    [
      '--save-answers without check',
      ['--save-answers', 'x'],
      { MISTRAL_ADMIN_API_KEY: KEY },
      /^mistral-admin-exporter: --save-answers is only for check: .*\n$/,
    ],
  ])('stops on %s with one line and exit code 2', async (_name, args, env, message) => {
    const r = await run(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('--help describes check and --save-answers', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('mistral-admin-exporter check [flags]');
    expect(r.stdout).toContain('--save-answers DIR');
  });
});

/** A loopback port nothing listens on (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
