import { collectDefaultMetrics, Registry } from 'prom-client';
import type { ClientObserver, RetryReason } from './admin-api/types.js';
import type { ApiEndpoint } from './endpoints.js';
import { systemClock } from './clock.js';
import { type Format, joinFamilies, renderFamily, type TypedFamily } from './exposition.js';
import type { EndpointStatus } from './scheduler.js';
import { UNREADABLE_REASONS } from './sources/types.js';

export interface OwnMetricsOptions {
  version: string;
  revision: string;
  /** The endpoints read, per organization (`org` set for one of several: its series carry the label). */
  endpoints: ReadonlyArray<{ org?: string | undefined; endpoints: readonly ApiEndpoint[] }>;
  /** Every endpoint's status; `org` set on those of an organization of several. */
  statuses: () => ReadonlyArray<EndpointStatus & { org?: string }>;
  /** Process and Node.js runtime metrics (off in golden-file tests, whose values vary). */
  processMetrics?: boolean;
  /** For how long process metrics are reused (ms since the epoch); the system clock by default. */
  now?: () => number;
}

/** Process and runtime metrics are collected at most this often: a collection costs more than the rest of a scrape. */
export const PROCESS_METRICS_MAX_AGE_MS = 1000;

const RETRY_REASONS: readonly RetryReason[] = ['429', '5xx', 'timeout', 'network'];

/**
 * prom-client's defaults include three gauges named like counters; promtool
 * rejects them (`_total` on a non-counter), so they are left out.
 */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

type Labels = Record<string, string>;

/** The `org` label of an organization of several; none for the one organization of an environment configuration. */
const orgLabel = (org: string | undefined): Labels => (org === undefined ? {} : { org });

/** A counter's values per label set, in the order the label sets first appeared. */
class CounterValues {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  inc(labels: Labels, by = 1): void {
    const key = Object.values(labels).join('\u0000');
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }

  samples(): Array<{ labels: Labels; value: number }> {
    return [...this.values.values()];
  }
}

/**
 * The exporter's own metrics: small, rendered at every scrape through the
 * same renderer as the Admin API's families, in whichever format is asked.
 * Counts are plain values; the process and Node.js metrics come from
 * prom-client's default collectors, read as data from their registry.
 */
export class OwnMetrics implements ClientObserver {
  private readonly requests = new CounterValues();
  private readonly retries = new CounterValues();
  private readonly parseErrors = new CounterValues();
  /** The path in use per organization and endpoint. */
  private readonly paths = new Map<string, Labels>();
  private readonly processRegistry: Registry | undefined;
  /** The event-loop-lag window figures of the last window that had samples. */
  private readonly lastLagWindow = new Map<string, TypedFamily>();
  /** The last collection of process metrics, and its renderings. */
  private processCache: ProcessCache | undefined;
  /** Counts changes of the counters and paths, so that a render can tell it has nothing new to say. */
  private changes = 0;
  /** The last render per format, and what it was made from: reused while none of it changed. */
  private readonly last: Partial<Record<Format, LastRender>> = {};

  constructor(private readonly options: OwnMetricsOptions) {
    for (const { org, endpoints } of options.endpoints)
      for (const api_endpoint of endpoints)
        for (const reason of RETRY_REASONS) this.retries.inc({ ...orgLabel(org), api_endpoint, reason }, 0);
    for (const { org, endpoints } of options.endpoints)
      for (const api_endpoint of endpoints) this.parseErrors.inc({ ...orgLabel(org), api_endpoint }, 0);
    if (options.processMetrics !== false) {
      this.processRegistry = new Registry();
      collectDefaultMetrics({ register: this.processRegistry });
      for (const name of MISNAMED_DEFAULTS) this.processRegistry.removeSingleMetric(name);
    }
  }

  request(endpoint: ApiEndpoint, code: string, org?: string): void {
    this.changes++;
    this.requests.inc({ ...orgLabel(org), api_endpoint: endpoint, code });
  }

  retry(endpoint: ApiEndpoint, reason: RetryReason, org?: string): void {
    this.changes++;
    this.retries.inc({ ...orgLabel(org), api_endpoint: endpoint, reason });
  }

  pathInUse(endpoint: ApiEndpoint, path: string, org?: string): void {
    this.changes++;
    this.paths.set(`${org ?? ''}\u0000${endpoint}`, { ...orgLabel(org), api_endpoint: endpoint, path });
  }

  parseError(endpoint: ApiEndpoint, org?: string): void {
    this.changes++;
    this.parseErrors.inc({ ...orgLabel(org), api_endpoint: endpoint });
  }

  /** What one organization of several reports: the same counts, labelled with its `org`. */
  observerFor(org: string): ClientObserver {
    return {
      request: (endpoint, code) => this.request(endpoint, code, org),
      retry: (endpoint, reason) => this.retry(endpoint, reason, org),
      pathInUse: (endpoint, path) => this.pathInUse(endpoint, path, org),
    };
  }

  /**
   * The rendered metrics; in OpenMetrics, ending with the one `# EOF` of the
   * whole answer. The exporter's own figures (mistral_up, freshness) are read
   * at every call; process metrics are collected at most once a second.
   */
  async render(format: Format): Promise<string> {
    const statuses = this.options.statuses();
    const processLines = this.processLinesNow(format) ?? (await this.processRendered(format));
    return this.rendered(format, statuses, processLines).text;
  }

  /**
   * `render` as bytes: the same Buffer as long as nothing changed (the gzip joiner then reuses its compression of it).
   * At once, without a promise, unless the process metrics are due for their collection (at most once a second):
   * a scrape then costs no turn of the event loop.
   */
  renderBytes(format: Format): Buffer | Promise<Buffer> {
    const statuses = this.options.statuses();
    const processLines = this.processLinesNow(format);
    if (processLines !== undefined) return bytesOf(this.rendered(format, statuses, processLines));
    return this.processRendered(format).then((lines) => bytesOf(this.rendered(format, statuses, lines)));
  }

  private rendered(
    format: Format,
    statuses: ReadonlyArray<EndpointStatus & { org?: string }>,
    processLines: readonly string[],
  ): LastRender {
    const last = this.last[format];
    if (
      last !== undefined &&
      last.changes === this.changes &&
      last.processLines === processLines &&
      (last.statuses === statuses || sameStatuses(last.statuses, statuses))
    ) {
      return last;
    }
    const own = this.families(statuses).map((f) => renderFamily(f, format));
    const made: LastRender = { changes: this.changes, statuses, processLines, text: joinFamilies([...own, ...processLines], format) };
    this.last[format] = made;
    return made;
  }

  /** The process metrics' lines when their last collection is recent enough; undefined when one is due or under way. */
  private processLinesNow(format: Format): readonly string[] | undefined {
    if (!this.processRegistry) return NO_LINES;
    const cache = this.processCache;
    if (cache?.families === undefined || this.processExpired(cache)) return undefined;
    cache.rendered[format] ??= cache.families.map((f) => renderFamily(f, format));
    return cache.rendered[format];
  }

  private processExpired(cache: ProcessCache): boolean {
    const now = (this.options.now ?? systemClock.now)();
    return now - cache.at >= PROCESS_METRICS_MAX_AGE_MS || now < cache.at;
  }

  private async processRendered(format: Format): Promise<readonly string[]> {
    if (!this.processRegistry) return NO_LINES;
    let cache = this.processCache;
    if (cache === undefined || this.processExpired(cache)) {
      const at = (this.options.now ?? systemClock.now)();
      const collected = this.processFamilies().then(
        (families) => {
          made.families = families;
          return families;
        },
        (err: unknown) => {
          // A collection that failed is not kept: the next scrape tries again.
          if (this.processCache === made) this.processCache = undefined;
          throw err;
        },
      );
      const made: ProcessCache = { at, collected, rendered: {} };
      this.processCache = made;
      cache = made;
    }
    const families = await cache.collected;
    cache.rendered[format] ??= families.map((f) => renderFamily(f, format));
    return cache.rendered[format];
  }

  private families(all: ReadonlyArray<EndpointStatus & { org?: string }>): TypedFamily[] {
    const { version, revision } = this.options;
    const perEndpoint = (pick: (s: EndpointStatus) => number | undefined) =>
      all.flatMap((s) => {
        const value = pick(s);
        return value === undefined ? [] : [{ labels: { ...orgLabel(s.org), api_endpoint: s.endpoint }, value }];
      });
    return [
      {
        name: 'mistral_exporter_api_requests_total',
        help: 'HTTP requests sent to the Admin API, by endpoint and status code (error: network error or timeout).',
        type: 'counter',
        samples: this.requests.samples(),
      },
      {
        name: 'mistral_exporter_api_retries_total',
        help: 'Admin API requests tried again, by endpoint and reason (429, 5xx, timeout, network).',
        type: 'counter',
        samples: this.retries.samples(),
      },
      {
        name: 'mistral_exporter_parse_errors_total',
        help: 'Admin API answers that could not be understood (not JSON, or an unexpected shape), by endpoint.',
        type: 'counter',
        samples: this.parseErrors.samples(),
      },
      {
        name: 'mistral_up',
        help: 'Whether the last refresh of the Admin API endpoint succeeded (1) or failed (0); for usage, for every workspace.',
        type: 'gauge',
        samples: perEndpoint((s) => (s.up ? 1 : 0)),
      },
      {
        name: 'mistral_exporter_build_info',
        help: 'Version of the exporter and of Node.js running it; always 1.',
        type: 'gauge',
        samples: [{ labels: { version, revision, nodejs_version: process.version }, value: 1 }],
      },
      {
        name: 'mistral_exporter_last_success_timestamp_seconds',
        help: 'When the endpoint was last refreshed successfully (Unix seconds); absent before the first success.',
        type: 'gauge',
        samples: perEndpoint((s) => (s.lastSuccessAt === undefined ? undefined : s.lastSuccessAt / 1000)),
      },
      {
        name: 'mistral_exporter_refresh_interval_seconds',
        help: 'Configured refresh interval of the endpoint (seconds); staleness alerts compare against it.',
        type: 'gauge',
        samples: perEndpoint((s) => s.intervalMs / 1000),
      },
      {
        name: 'mistral_exporter_refresh_duration_seconds',
        help: 'How long the last refresh of the endpoint took, retries included (seconds).',
        type: 'gauge',
        samples: perEndpoint((s) => (s.lastDurationMs === undefined ? undefined : s.lastDurationMs / 1000)),
      },
      {
        name: 'mistral_exporter_series_dropped',
        help: 'Series a cardinality cap (LECHAT_AGENT_LIMIT, LECHAT_USER_LIMIT, VIBE_TOOL_LIMIT, API_KEYS_LIMIT, MAX_MODELS, which folds usage into the model other) or the page cap of a paginated list (workspaces) left out in the last good refresh, by metric.',
        type: 'gauge',
        samples: all.flatMap((s) =>
          Object.entries(s.seriesDropped).map(([metric, value]) => ({ labels: { ...orgLabel(s.org), metric }, value })),
        ),
      },
      {
        name: 'mistral_exporter_unreadable_entries',
        help: 'Entries of the last good answer (rows, items, prices) skipped because they could not be read, by endpoint and reason (missing, not_a_number, wrong_type); the rest of the answer is served. Absent before the first success.',
        type: 'gauge',
        samples: all.flatMap((s) =>
          s.unreadable === undefined
            ? []
            : UNREADABLE_REASONS.map((reason) => ({
                labels: { ...orgLabel(s.org), api_endpoint: s.endpoint, reason },
                value: s.unreadable?.[reason]?.count ?? 0,
              })),
        ),
      },
      {
        name: 'mistral_analytics_complete_until_timestamp_seconds',
        help: 'Analytics endpoints: up to when the data served is complete (Unix seconds), the end of the last UTC day the Admin API has loaded; a window needing a later day is not published. Absent when the answer cannot tell, and with the data it describes. Refreshed in the background on an interval, not at scrape time.',
        type: 'gauge',
        samples: perEndpoint((s) => s.completeUntil),
      },
      {
        name: 'mistral_exporter_endpoint_path_info',
        help: 'The Admin API path variant in use for the endpoint, relative to the base URL; always 1.',
        type: 'gauge',
        samples: [...this.paths.values()].map((labels) => ({ labels, value: 1 })),
      },
    ];
  }

  private async processFamilies(): Promise<TypedFamily[]> {
    if (!this.processRegistry) return [];
    const families = await registryFamilies(this.processRegistry);
    // An empty window (two scrapes within the histogram's resolution): its figures say nothing; the last window's still hold.
    const emptyWindow = families.some((f) => f.name === LAG_WINDOW_MEAN && f.samples.some((s) => Number.isNaN(s.value)));
    const out = families.map((f) => {
      if (!LAG_WINDOW_FAMILIES.has(f.name)) return f;
      if (!emptyWindow) {
        this.lastLagWindow.set(f.name, f);
        return f;
      }
      return this.lastLagWindow.get(f.name) ?? { ...f, samples: [] };
    });
    // Never NaN on /metrics, whatever a collector gives: a sample without a value is left out.
    return out.map((f) =>
      f.samples.some((s) => Number.isNaN(s.value)) ? { ...f, samples: f.samples.filter((s) => !Number.isNaN(s.value)) } : f,
    );
  }
}

const NO_LINES: readonly string[] = [];

interface ProcessCache {
  /** When the collection began. */
  at: number;
  collected: Promise<TypedFamily[]>;
  /** Its result, once it has one. */
  families?: TypedFamily[];
  rendered: Partial<Record<Format, string[]>>;
}

function bytesOf(render: LastRender): Buffer {
  render.bytes ??= Buffer.from(render.text);
  return render.bytes;
}

interface LastRender {
  changes: number;
  statuses: ReadonlyArray<EndpointStatus & { org?: string }>;
  /** The process metrics' rendering it includes (the same array while their collection is reused). */
  processLines: readonly string[];
  text: string;
  bytes?: Buffer;
}

/** Whether two readings of the endpoints' statuses say the same (their objects are kept by the scheduler until a refresh replaces them). */
function sameStatuses(a: ReadonlyArray<EndpointStatus & { org?: string }>, b: ReadonlyArray<EndpointStatus & { org?: string }>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as EndpointStatus & { org?: string };
    const y = b[i] as EndpointStatus & { org?: string };
    if (
      x.org !== y.org ||
      x.endpoint !== y.endpoint ||
      x.up !== y.up ||
      x.intervalMs !== y.intervalMs ||
      x.lastSuccessAt !== y.lastSuccessAt ||
      x.lastDurationMs !== y.lastDurationMs ||
      x.seriesDropped !== y.seriesDropped ||
      x.unreadable !== y.unreadable ||
      x.completeUntil !== y.completeUntil
    ) {
      return false;
    }
  }
  return true;
}

const LAG_WINDOW_MEAN = 'nodejs_eventloop_lag_mean_seconds';

/**
 * prom-client's event-loop-lag figures of the window since the last scrape,
 * from a histogram it resets at each one: a window with no sample gives NaN
 * (mean, stddev) and 2^63 ns (min).
 */
const LAG_WINDOW_FAMILIES = new Set(
  ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'].map((stat) => `nodejs_eventloop_lag_${stat}_seconds`),
);

/** A prom-client registry's metrics as data, for our renderer (never rendered by the registry, which renames counters in place). */
export async function registryFamilies(registry: Registry): Promise<TypedFamily[]> {
  const metrics = await registry.getMetricsAsJSON();
  return metrics.map((m) => ({
    name: m.name,
    help: m.help,
    type: String(m.type) as TypedFamily['type'],
    samples: m.values.map((v) => {
      const { metricName } = v as { metricName?: string };
      return {
        ...(metricName === undefined ? {} : { name: metricName }),
        labels: v.labels as Record<string, string | number>,
        value: v.value,
      };
    }),
  }));
}
