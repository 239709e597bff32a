/**
 * The fault suite: every way the Admin API (or something in front of it) has
 * been seen or can be expected to fail, one fault mode on one endpoint at a
 * time, with the refresh loops running on a manual clock against the real
 * HTTP simulator. For each: the process stays up and keeps answering
 * scrapes, the other endpoint stays fresh, the endpoint's last good data is
 * served until MAX_STALENESS and then withdrawn, the requests it causes are
 * counted and bounded, the log does not flood, the key shows nowhere, and
 * the endpoint recovers at its next refresh once the fault is gone.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { API_ENDPOINTS, endpointOf, type ApiEndpoint } from '../src/sources/catalog.js';
import type { Fault } from '../src/simulator/faults.js';
import { CANARY_KEY, samples, startHarness, valueOf, type Harness } from './support/harness.js';
import { settle } from './support/manual-clock.js';

const HOUR = 3_600_000;
const INTERVAL = HOUR;
const STALENESS = 150 * 60_000;
/** Real time a refresh may wait on I/O before the driver moves the clock to its next timer (its deadline). */
const REAL_WAIT_BEFORE_FORCING_MS = 1000;
/** Waits shorter than this are backoff or Retry-After waits inside a refresh; longer ones are deadlines and intervals. */
const SHORT_WAIT_MS = 10 * 60_000;

/**
 * Runs the refresh loops on the manual clock until `until` (ms since the
 * epoch). While a refresh runs, time moves only to its short waits (backoff,
 * Retry-After) and otherwise stands still for its real I/O; if that I/O has
 * not ended after REAL_WAIT_BEFORE_FORCING_MS of real time (a body that
 * trickles forever, a timeout) and `force` is set, time moves on to the
 * next timer (e.g. the refresh's deadline) or to `until`. Only phases with a
 * fault force: a good refresh slowed down by a busy machine must never be
 * cut short by a deadline the test moved to. A scrape is served at every step, so
 * one that waited on the API would hang the test.
 */
async function runUntil(h: Harness, until: number, force = false): Promise<void> {
  let waitingSince = performance.now();
  const moveTo = async (ms: number): Promise<void> => {
    await h.clock.advance(Math.max(0, ms));
    waitingSince = performance.now();
  };
  for (;;) {
    let idle = false;
    void h.exporter.scheduler.whenIdle().then(() => {
      idle = true;
    });
    await settle();
    await h.scrape();
    const now = h.clock.now();
    const pending = h.clock.pending();
    const short = pending.find((ms) => ms < SHORT_WAIT_MS);
    const waitedLong = force && performance.now() - waitingSince >= REAL_WAIT_BEFORE_FORCING_MS;
    // A refresh's own short waits always pass, even a little beyond `until`: it is sleeping on this clock.
    if (!idle && short !== undefined) await moveTo(short);
    else if (!idle && !waitedLong) await new Promise((r) => setTimeout(r, 5));
    else if (pending[0] !== undefined && now + pending[0] <= until) await moveTo(pending[0]);
    else if (now < until) await moveTo(until - now);
    else if (idle) return;
    // At `until` with a refresh still waiting on I/O (its request timeouts, real time): it ends where it
    // is, so that the next refresh falls at the same instant however slow the machine.
    else await new Promise((r) => setTimeout(r, 5));
  }
}

/** The samples of one endpoint's own families (not the exporter's), as `name{labels}` → value. */
function seriesOf(text: string, endpoint: ApiEndpoint): Map<string, number> {
  const names = new Set(endpointOf(endpoint).families.map((f) => f.name));
  const out = new Map<string, number>();
  for (const [key, value] of samples(text)) {
    const brace = key.indexOf('{');
    if (names.has(brace < 0 ? key : key.slice(0, brace))) out.set(key, value);
  }
  return out;
}

const up = (text: string, endpoint: ApiEndpoint) => valueOf(text, 'mistral_up', { api_endpoint: endpoint });

/** A small HTTP server standing for "another host": it must never be asked anything. */
async function otherHost(): Promise<{ url: string; requests: number; close(): Promise<void> }> {
  const state = { requests: 0 };
  const server: Server = createServer((_req, res) => {
    state.requests += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/steal`,
    get requests() {
      return state.requests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface FaultCase {
  name: string;
  fault: (ctx: { redirectTo: string; now: number }) => Fault;
  env?: Record<string, string>;
}

const FAULTS: FaultCase[] = [
  { name: '429, Retry-After in seconds', fault: () => ({ kind: 'status', status: 429, headers: { 'retry-after': '120' } }) },
  {
    name: '429, Retry-After as an HTTP date',
    fault: ({ now }) => ({ kind: 'status', status: 429, headers: { 'retry-after': new Date(now + 20 * 60_000).toUTCString() } }),
  },
  { name: '429, Retry-After of 31 years', fault: () => ({ kind: 'status', status: 429, headers: { 'retry-after': '1000000000' } }) },
  { name: '429, Retry-After garbage', fault: () => ({ kind: 'status', status: 429, headers: { 'retry-after': 'soon, maybe' } }) },
  { name: '500', fault: () => ({ kind: 'status', status: 500 }) },
  { name: '502 with an HTML body', fault: () => ({ kind: 'status', status: 502, body: '<html><body>Bad Gateway</body></html>' }) },
  { name: '503', fault: () => ({ kind: 'status', status: 503 }) },
  { name: '504', fault: () => ({ kind: 'status', status: 504 }) },
  { name: 'a connection reset before the answer', fault: () => ({ kind: 'reset' }) },
  { name: 'a connection reset mid-body', fault: () => ({ kind: 'cut' }) },
  { name: 'headers, then silence', fault: () => ({ kind: 'silence' }), env: { REQUEST_TIMEOUT: '200ms' } },
  { name: 'no answer at all', fault: () => ({ kind: 'hang' }), env: { REQUEST_TIMEOUT: '200ms' } },
  { name: 'a body that trickles one byte at a time', fault: () => ({ kind: 'trickle', everyMs: 20 }), env: { REQUEST_TIMEOUT: '200ms' } },
  { name: 'truncated JSON', fault: () => ({ kind: 'malformed', variant: 'truncated-json' }) },
  { name: 'HTML with status 200', fault: () => ({ kind: 'malformed', variant: 'not-json' }) },
  { name: 'an empty body', fault: () => ({ kind: 'malformed', variant: 'empty' }) },
  { name: 'JSON nested 200 000 deep', fault: () => ({ kind: 'malformed', variant: 'deep-nesting' }) },
  { name: 'a body over MAX_RESPONSE_SIZE', fault: () => ({ kind: 'huge', bytes: 4 * 1024 * 1024 }), env: { MAX_RESPONSE_SIZE: '1MiB' } },
  { name: '401', fault: () => ({ kind: 'status', status: 401, body: { detail: 'Unauthorized' } }) },
  { name: '403', fault: () => ({ kind: 'status', status: 403, body: { message: 'Forbidden', request_id: 'r-1' } }) },
  { name: '404', fault: () => ({ kind: 'status', status: 404 }) },
  {
    name: '422',
    fault: () => ({ kind: 'status', status: 422, body: { detail: [{ loc: ['query', 'x'], msg: 'bad', type: 'value_error' }] } }),
  },
  {
    name: 'a redirect to another host',
    fault: ({ redirectTo }) => ({ kind: 'status', status: 302, headers: { location: redirectTo }, body: '' }),
  },
];

/** The endpoint each fault is tried on: every endpoint in turn, so each meets several faults. */
const endpointFor = (i: number): ApiEndpoint => API_ENDPOINTS[i % API_ENDPOINTS.length] as ApiEndpoint;
/** A second endpoint, which must stay fresh through the first one's fault. */
const bystanderOf = (e: ApiEndpoint): ApiEndpoint => (e === 'rate_limit' ? 'spend_limit' : 'rate_limit');

let current: { h: Harness; other: Awaited<ReturnType<typeof otherHost>> } | undefined;
afterEach(async () => {
  await current?.h.exporter.scheduler.stop();
  await current?.h.close();
  await current?.other.close();
  current = undefined;
});

describe('the fault suite: one fault mode at a time, refresh loops running', () => {
  it.each(FAULTS.map((c, i) => [c.name, endpointFor(i), c] as const))('%s on %s', async (_name, endpoint, c) => {
    const bystander = bystanderOf(endpoint);
    const other = await otherHost();
    const h = await startHarness({
      env: {
        MISTRAL_ENDPOINTS: `${endpoint},${bystander}`,
        REFRESH_INTERVAL: '1h',
        ANALYTICS_REFRESH_INTERVAL: '1h',
        MAX_STALENESS: '150m',
        ...c.env,
      },
    });
    current = { h, other };
    const t0 = h.clock.now();
    const count = () => h.sim.requests.filter((r) => r.endpoint === endpoint).length;

    // A good start: both endpoints up, with data.
    h.exporter.scheduler.start();
    await runUntil(h, t0);
    const good = await h.scrape();
    expect([up(good, endpoint), up(good, bystander)]).toEqual([1, 1]);
    const goodSeries = seriesOf(good, endpoint);
    expect(goodSeries.size).toBeGreaterThan(0);
    const callsPerRefresh = count();
    expect(callsPerRefresh).toBeGreaterThan(0);

    // The fault, from the next refresh on (at 1h; one that hangs ends at its deadline, 2h).
    h.sim.setFault(endpoint, c.fault({ redirectTo: other.url, now: h.clock.now() }));
    const logLinesBefore = h.logs.lines().length;
    await runUntil(h, t0 + 2 * INTERVAL + 60_000, true);
    const during = await h.scrape();
    expect(up(during, endpoint)).toBe(0);
    expect(up(during, bystander)).toBe(1);
    expect(seriesOf(during, endpoint)).toEqual(goodSeries); // the last good data, still fresh enough

    // Past MAX_STALENESS: withdrawn, so that no alert acts on it; the bystander is untouched.
    await runUntil(h, t0 + STALENESS + 60_000, true);
    const stale = await h.scrape();
    expect(seriesOf(stale, endpoint).size).toBe(0);
    expect(up(stale, endpoint)).toBe(0);
    expect(up(stale, bystander)).toBe(1);
    expect(seriesOf(stale, bystander).size).toBeGreaterThan(0);

    // At most two faulty refreshes (1h, 2h), each at most 1 + 2 retries of each call, over at most 3 path variants.
    const faultyCalls = count() - callsPerRefresh;
    expect(faultyCalls).toBeGreaterThan(0);
    expect(faultyCalls).toBeLessThanOrEqual(2 * callsPerRefresh * 3 * 3);
    const faultLines = h.logs
      .lines()
      .slice(logLinesBefore)
      .filter((l) => l.api_endpoint === endpoint && (l.level === 'warn' || l.level === 'error'));
    expect(faultLines.length).toBeGreaterThan(0);
    expect(faultLines.length).toBeLessThanOrEqual(3); // the failure, perhaps a change of cause, the withdrawal

    h.sim.clearFaults();
    // Recovery at the next refresh: one interval after the last faulty one ended (at 2h, or a little
    // after 2h+1m when its request timeouts and backoff waits ran past that instant on a slow machine).
    await runUntil(h, t0 + 3 * INTERVAL + 5 * 60_000);
    const after = await h.scrape();
    expect(up(after, endpoint)).toBe(1);
    expect(seriesOf(after, endpoint).size).toBeGreaterThan(0);

    expect(other.requests).toBe(0); // a redirect is never followed, the key never sent elsewhere
    const statusPage = (await h.exporter.app.inject({ url: '/' })).body;
    for (const out of [h.logs.text(), good, during, stale, after, statusPage]) expect(out).not.toContain(CANARY_KEY);
  });

  it('a fault that flaps: one log line per change of state, requests bounded, data kept', async () => {
    const endpoint: ApiEndpoint = 'spend_limit';
    const h = await startHarness({ env: { MISTRAL_ENDPOINTS: `${endpoint},rate_limit`, MAX_STALENESS: '3h' } });
    current = { h, other: await otherHost() };
    const t0 = h.clock.now();
    h.exporter.scheduler.start();
    await runUntil(h, t0);
    const goodSeries = seriesOf(await h.scrape(), endpoint);
    const before = h.logs.lines().length;
    const states: number[] = [];
    for (let cycle = 1; cycle <= 6; cycle += 1) {
      if (cycle % 2 === 1) h.sim.setFault(endpoint, { kind: 'status', status: 503 });
      else h.sim.clearFaults();
      await runUntil(h, t0 + cycle * INTERVAL + 60_000);
      const text = await h.scrape();
      states.push(up(text, endpoint) as number);
      expect(seriesOf(text, endpoint).size).toBe(goodSeries.size);
    }
    expect(states).toEqual([0, 1, 0, 1, 0, 1]);
    const lines = h.logs
      .lines()
      .slice(before)
      .filter((l) => l.api_endpoint === endpoint && l.level !== 'debug');
    expect(lines.filter((l) => l.level === 'warn' || l.level === 'error')).toHaveLength(3);
    expect(lines.filter((l) => l.level === 'info')).toHaveLength(3);
    const calls = h.sim.requests.filter((r) => r.endpoint === endpoint).length;
    expect(calls).toBeLessThanOrEqual(1 + 3 * 3 + 3); // start, 3 failing refreshes with 2 retries, 3 good ones
  });
});
