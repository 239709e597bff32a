import { afterEach } from 'vitest';
import type { RetryPolicy } from '../../src/admin-api/types.js';
import { loadConfig } from '../../src/config/index.js';
import { Secret } from '../../src/secret.js';
import type { ApiEndpoint } from '../../src/endpoints.js';
import { createExporter, type Exporter } from '../../src/exporter.js';
import { startSimulator, type Simulator, type SimulatorOptions, type UsageTruthRow } from '../../src/simulator/index.js';
import { captureLogs } from './logs.js';
import { ManualClock, settle } from './manual-clock.js';

/** A key that must never show up anywhere the exporter writes. */
export const CANARY_KEY = 'canary-7Qx2pL9vRk4mZt8sWn3b';

/** Mid-month, mid-day: the simulated organization has half a month of usage. */
export const HARNESS_START = Date.UTC(2026, 10, 15, 12, 0, 0);

export const FAST_RETRY: RetryPolicy = { maxRetries: 2, baseDelayMs: 1000, maxDelayMs: 4000, maxRetryAfterMs: 60_000 };

export interface Harness {
  clock: ManualClock;
  sim: Simulator;
  exporter: Exporter;
  logs: ReturnType<typeof captureLogs>;
  /** Refreshes one endpoint, moving the clock through its backoff waits. */
  refresh(endpoint: ApiEndpoint): Promise<void>;
  refreshAll(): Promise<void>;
  scrape(headers?: Record<string, string>): Promise<string>;
  close(): Promise<void>;
}

/**
 * The simulator and a real exporter, over real HTTP on loopback, sharing one
 * manual clock. Refresh loops are not started: tests call `refresh` and see
 * exactly the calls they caused. Intervals are long (1h) so that `drive`
 * only ever fires short waits (backoff, Retry-After), never a deadline.
 */
export async function startHarness(
  options: {
    env?: Record<string, string>;
    sim?: SimulatorOptions;
    retry?: RetryPolicy;
    scrubLogs?: boolean;
    /** Process and runtime metrics vary from run to run: off unless asked for. */
    processMetrics?: boolean;
    /** The clock's start, ms since the epoch; mid-month by default. */
    start?: number;
    /** The admin key, of the exporter and the simulator alike; CANARY_KEY by default. */
    key?: string;
    /** Command-line arguments (e.g. `--demo`, which the harness's simulator then stands in for). */
    argv?: string[];
  } = {},
): Promise<Harness> {
  const clock = new ManualClock(options.start ?? HARNESS_START);
  const key = options.key ?? CANARY_KEY;
  const sim = await startSimulator({ now: () => clock.now(), apiKey: key, ...options.sim });
  const command = loadConfig({
    argv: options.argv ?? [],
    env: {
      MISTRAL_ADMIN_API_KEY: key,
      MISTRAL_ADMIN_API_URL: sim.url,
      REFRESH_INTERVAL: '1h',
      ANALYTICS_REFRESH_INTERVAL: '1h',
      MAX_STALENESS: '2h',
      REQUEST_TIMEOUT: '2s',
      ...options.env,
    },
  });
  if (command.kind !== 'run') throw new Error('unexpected command');
  // Without the scrubbing safety net, a leak anywhere would show in the captured logs.
  const logs = captureLogs({ secrets: options.scrubLogs ? [key] : [] });
  // As main.ts does in demo mode: the simulator and its key stand in for the Admin API.
  const config = command.config.demo ? { ...command.config, apiUrl: sim.url, apiKey: new Secret(key) } : command.config;
  const exporter = createExporter(config, {
    logger: logs.logger,
    clock,
    random: () => 0.5,
    retry: options.retry ?? FAST_RETRY,
    processMetrics: options.processMetrics ?? false,
  });
  // GET workspaces first: with MISTRAL_WORKSPACE_IDS=all, usage and Vibe by workspace wait for its first try.
  const endpoints = exporter.scheduler
    .statuses()
    .map((s) => s.endpoint)
    .sort((a, b) => Number(b === 'workspaces') - Number(a === 'workspaces'));
  const refresh = (endpoint: ApiEndpoint) => drive(clock, exporter.scheduler.refresh(endpoint));
  return {
    clock,
    sim,
    exporter,
    logs,
    refresh,
    async refreshAll() {
      for (const e of endpoints) await refresh(e);
    },
    async scrape(headers = {}) {
      const res = await exporter.app.inject({ method: 'GET', url: '/metrics', headers });
      if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`);
      return res.body;
    },
    async close() {
      await exporter.app.close();
      await exporter.close();
      await sim.close();
    },
  };
}

/**
 * For test files whose tests each start one harness: `const harness =
 * useHarness()`, then `await harness(options)` in a test; it is closed after
 * the test, pass or fail.
 */
export function useHarness(): (options?: Parameters<typeof startHarness>[0]) => Promise<Harness> {
  let current: Harness | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return async (options) => {
    current = await startHarness(options);
    return current;
  };
}

/** Waits shorter than this are backoff or Retry-After waits; longer ones are deadlines and intervals. */
const SHORT_WAIT_MS = 10 * 60_000;

/**
 * Settles `promise`, moving `clock` to each short timer (a backoff wait) as
 * it appears, while real I/O runs on the real event loop.
 */
export async function drive<T>(clock: ManualClock, promise: Promise<T>): Promise<T> {
  let done = false;
  const tracked = promise.finally(() => {
    done = true;
  });
  tracked.catch(() => undefined);
  while (!done) {
    await settle();
    if (done) break;
    const next = clock.pending().find((ms) => ms < SHORT_WAIT_MS);
    if (next === undefined) await new Promise((r) => setTimeout(r, 2));
    else await clock.advance(Math.max(0, next));
  }
  return tracked;
}

/** Parses text-format samples into `name{labels}` → value (labels as rendered). */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** The value of one series, by name and labels (in any order). */
export function valueOf(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels);
  for (const [key, value] of samples(text)) {
    const brace = key.indexOf('{');
    const n = brace < 0 ? key : key.slice(0, brace);
    if (n !== name) continue;
    const body = brace < 0 ? '' : key.slice(brace + 1, -1);
    const got = new Map([...body.matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (got.size === want.length && want.every(([k, v]) => got.get(k) === v)) return value;
  }
  return undefined;
}

/** The labels of a truth row's cost series: zone and tier vary in the simulated prices, so both are there. */
export function costLabels(row: UsageTruthRow): Record<string, string> {
  return {
    category: row.category,
    model: row.billingMetric,
    billing_group: row.billingGroup,
    currency: 'EUR',
    api_zone: row.apiZone,
    service_tier: row.serviceTier,
  };
}

/** Σ value of truth rows per key, as a number. */
