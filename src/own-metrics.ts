import { Counter, Gauge, collectDefaultMetrics, type Registry, type RegistryContentType } from 'prom-client';
import type { ClientObserver, RetryReason } from './admin-api/types.js';
import type { ApiEndpoint } from './endpoints.js';
import { registryFor, type Format } from './exposition.js';
import type { EndpointStatus } from './scheduler.js';

export interface OwnMetricsOptions {
  version: string;
  revision: string;
  endpoints: readonly ApiEndpoint[];
  statuses: () => readonly EndpointStatus[];
  /** Process and Node.js runtime metrics (off in golden-file tests, whose values vary). */
  processMetrics?: boolean;
}

const RETRY_REASONS: readonly RetryReason[] = ['429', '5xx', 'timeout', 'network'];

/**
 * prom-client's defaults include three gauges named like counters; promtool
 * rejects them (`_total` on a non-counter), so they are left out.
 */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * The exporter's own metrics: small, rendered at every scrape.
 *
 * There is one registry per format with its own twin of every metric,
 * because prom-client renames a counter object in place when it renders
 * OpenMetrics, so one object cannot serve both formats.
 */
export class OwnMetrics implements ClientObserver {
  private readonly registries: Record<Format, Registry<RegistryContentType>> = {
    text: registryFor('text'),
    openmetrics: registryFor('openmetrics'),
  };
  private readonly requests: Counter<'api_endpoint' | 'code'>[];
  private readonly retries: Counter<'api_endpoint' | 'reason'>[];
  private readonly parseErrors: Counter<'api_endpoint'>[];
  private readonly paths = new Map<ApiEndpoint, string>();

  constructor(options: OwnMetricsOptions) {
    const { version, revision, endpoints, statuses } = options;
    const paths = this.paths;

    this.requests = this.twin((registry) =>
      new Counter({
        name: 'mistral_exporter_api_requests_total',
        help: 'HTTP requests sent to the Admin API, by endpoint and status code (error: network error or timeout).',
        labelNames: ['api_endpoint', 'code'] as const,
        registers: [registry],
      }),
    );
    this.retries = this.twin((registry) => {
      const c = new Counter({
        name: 'mistral_exporter_api_retries_total',
        help: 'Admin API requests tried again, by endpoint and reason (429, 5xx, timeout, network).',
        labelNames: ['api_endpoint', 'reason'] as const,
        registers: [registry],
      });
      for (const api_endpoint of endpoints) for (const reason of RETRY_REASONS) c.inc({ api_endpoint, reason }, 0);
      return c;
    });
    this.parseErrors = this.twin((registry) => {
      const c = new Counter({
        name: 'mistral_exporter_parse_errors_total',
        help: 'Admin API answers that could not be understood (not JSON, or an unexpected shape), by endpoint.',
        labelNames: ['api_endpoint'] as const,
        registers: [registry],
      });
      for (const api_endpoint of endpoints) c.inc({ api_endpoint }, 0);
      return c;
    });

    this.twin((registry) => {
      new Gauge({
        name: 'mistral_up',
        help: 'Whether the last refresh of the Admin API endpoint succeeded (1) or failed (0); for usage, for every workspace.',
        labelNames: ['api_endpoint'],
        registers: [registry],
        collect() {
          this.reset();
          for (const s of statuses()) this.set({ api_endpoint: s.endpoint }, s.up ? 1 : 0);
        },
      });
      new Gauge({
        name: 'mistral_exporter_build_info',
        help: 'Version of the exporter and of Node.js running it; always 1.',
        labelNames: ['version', 'revision', 'nodejs_version'],
        registers: [registry],
      }).set({ version, revision, nodejs_version: process.version }, 1);
      new Gauge({
        name: 'mistral_exporter_last_success_timestamp_seconds',
        help: 'When the endpoint was last refreshed successfully (Unix seconds); absent before the first success.',
        labelNames: ['api_endpoint'],
        registers: [registry],
        collect() {
          this.reset();
          for (const s of statuses()) {
            if (s.lastSuccessAt !== undefined) this.set({ api_endpoint: s.endpoint }, s.lastSuccessAt / 1000);
          }
        },
      });
      new Gauge({
        name: 'mistral_exporter_refresh_interval_seconds',
        help: 'Configured refresh interval of the endpoint (seconds); staleness alerts compare against it.',
        labelNames: ['api_endpoint'],
        registers: [registry],
        collect() {
          this.reset();
          for (const s of statuses()) this.set({ api_endpoint: s.endpoint }, s.intervalMs / 1000);
        },
      });
      new Gauge({
        name: 'mistral_exporter_refresh_duration_seconds',
        help: 'How long the last refresh of the endpoint took, retries included (seconds).',
        labelNames: ['api_endpoint'],
        registers: [registry],
        collect() {
          this.reset();
          for (const s of statuses()) {
            if (s.lastDurationMs !== undefined) this.set({ api_endpoint: s.endpoint }, s.lastDurationMs / 1000);
          }
        },
      });
      new Gauge({
        name: 'mistral_exporter_series_dropped',
        help: 'Series a cardinality cap (LECHAT_AGENT_LIMIT, LECHAT_USER_LIMIT, VIBE_TOOL_LIMIT) or the page cap of a paginated list (workspaces) left out in the last good refresh, by metric.',
        labelNames: ['metric'],
        registers: [registry],
        collect() {
          this.reset();
          for (const s of statuses()) for (const [metric, n] of Object.entries(s.seriesDropped)) this.set({ metric }, n);
        },
      });
      new Gauge({
        name: 'mistral_exporter_endpoint_path_info',
        help: 'The Admin API path variant in use for the endpoint, relative to the base URL; always 1.',
        labelNames: ['api_endpoint', 'path'],
        registers: [registry],
        collect() {
          this.reset();
          for (const [api_endpoint, path] of paths) this.set({ api_endpoint, path }, 1);
        },
      });
      if (options.processMetrics !== false) {
        collectDefaultMetrics({ register: registry });
        for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
      }
    });
  }

  request(endpoint: ApiEndpoint, code: string): void {
    for (const c of this.requests) c.inc({ api_endpoint: endpoint, code });
  }

  retry(endpoint: ApiEndpoint, reason: RetryReason): void {
    for (const c of this.retries) c.inc({ api_endpoint: endpoint, reason });
  }

  pathInUse(endpoint: ApiEndpoint, path: string): void {
    this.paths.set(endpoint, path);
  }

  parseError(endpoint: ApiEndpoint): void {
    for (const c of this.parseErrors) c.inc({ api_endpoint: endpoint });
  }

  pathOf(endpoint: ApiEndpoint): string | undefined {
    return this.paths.get(endpoint);
  }

  /** The rendered metrics; in OpenMetrics, ending with the one `# EOF` of the whole answer. */
  render(format: Format): Promise<string> {
    return this.registries[format].metrics();
  }

  private twin<T>(make: (registry: Registry<RegistryContentType>) => T): T[] {
    return [make(this.registries.text), make(this.registries.openmetrics)];
  }
}
