import type { AdminApi } from '../admin-api/types.js';
import type { ApiEndpoint } from '../endpoints.js';
import type { Logger } from '../logger.js';

/** One sample of a gauge: its labels and value. */
export interface Sample {
  labels: Readonly<Record<string, string>>;
  value: number;
}

/** A gauge family as the exposition renders it. */
export interface MetricFamily {
  name: string;
  help: string;
  labelNames: readonly string[];
  samples: Sample[];
}

export interface FetchContext {
  api: AdminApi;
  /** The refresh's deadline (and shutdown). */
  signal: AbortSignal;
  /** When the refresh started, in ms since the epoch (from the injected clock). */
  now: number;
  logger: Logger;
}

/**
 * One Admin API endpoint: how to fetch it into a typed snapshot, and a pure
 * function from that snapshot to metric families. Adding an endpoint is
 * adding one of these and listing it in sources/index.ts.
 */
export interface Source<S = unknown> {
  endpoint: ApiEndpoint;
  /** Human name of the endpoint for log lines, e.g. `GET spend-limit`. */
  describe: string;
  fetch(ctx: FetchContext): Promise<S>;
  toFamilies(snapshot: S): MetricFamily[];
  /**
   * For sources with cardinality caps: per capped metric, the series a cap
   * left out of this snapshot (0 when none). Feeds
   * `mistral_exporter_series_dropped{metric}`.
   */
  seriesDropped?(snapshot: S): Record<string, number>;
}

/** The answer did not have the shape the exporter understands. */
export class ParseError extends Error {
  override readonly name = 'ParseError';
}
