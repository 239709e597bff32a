import type { ApiResponse, QueryValue } from '../admin-api/types.js';
import type { AnalyticsConfig } from '../config/index.js';
import type { PathLayout } from '../endpoints.js';
import type { Logger } from '../logger.js';
import type { Peers } from '../peers.js';
import type { ApiEndpoint } from './catalog.js';
import type { FamilyDef } from './families.js';
import type { SeatOptions } from './users.js';

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
  /** Labels a sample may leave out (see FamilyDef). */
  optionalLabels?: readonly string[];
  samples: Sample[];
}

export interface FetchContext {
  /**
   * GETs this endpoint (at the path of the layout in use) with `query`,
   * aborted with the refresh's `signal`. A source can only ever read its own
   * endpoint, and only with GET.
   */
  get(query?: Record<string, QueryValue>): Promise<ApiResponse>;
  /** The refresh's deadline (and shutdown). */
  signal: AbortSignal;
  /** When the refresh started, in ms since the epoch (from the injected clock). */
  now: number;
  logger: Logger;
  /** What the other endpoints' readers `share` (see Peers). */
  peers: Peers;
}

/** How to read one endpoint: fetch it into a typed snapshot, and a pure function from that snapshot to metric families. */
export interface Reader<S> {
  fetch(ctx: FetchContext): Promise<S>;
  toFamilies(snapshot: S): MetricFamily[];
  /**
   * `toFamilies` in slices between which the event loop runs (see slices.ts),
   * for readers whose snapshots can be large; the same families. The scheduler
   * uses it when given.
   */
  toFamiliesSliced?(snapshot: S): Promise<MetricFamily[]>;
  /**
   * The snapshot `fetch` gives depends on the queries it makes and the answers
   * it gets alone: not on the time (but through the queries), the peers, or
   * anything kept from one refresh to the next. The scheduler then keeps the
   * last families and their rendering when every answer of a refresh is byte
   * for byte the same as the last good refresh's (analytics over complete
   * days change a few times a day, not at every refresh), and makes them
   * again only when one differs.
   */
  answersOnly?: boolean;
  /**
   * For an `answersOnly` reader whose queries do not depend on its answers:
   * the queries `fetch` makes when it starts at `now`, in its order. When they
   * are the last good refresh's, the scheduler asks them again before `fetch`
   * runs, each unless its answer is the same bytes as then: when every answer
   * is, nothing is decoded, parsed or read. The first answer that differs is
   * handed to `fetch` when it asks for it (the ones before it are asked again).
   */
  plannedQueries?(now: number): ReadonlyArray<Record<string, QueryValue>>;
  /**
   * For readers with cardinality caps: per capped metric, the series a cap
   * left out of this snapshot (0 when none). Feeds
   * `mistral_exporter_series_dropped{metric}`.
   */
  seriesDropped?(snapshot: S): Record<string, number>;
  /** The entries of the answer that were skipped because they could not be read (see `readEach`). */
  unreadable?(snapshot: S): Unreadable;
  /**
   * For analytics endpoints (rule 5, time): Unix seconds up to which the
   * snapshot's data is complete, the end (exclusive) of the last UTC day
   * known loaded; undefined when the answer cannot tell. Feeds
   * `mistral_analytics_complete_until_timestamp_seconds{api_endpoint}`.
   */
  completeUntil?(snapshot: S): number | undefined;
  /**
   * What other endpoints' readers may read of this snapshot while it is
   * served (`ctx.peers.latest(endpoint)`): a small digest, not the snapshot,
   * since it is kept beside the rendered data. The providing module exports a
   * typed accessor for it.
   */
  share?(snapshot: S): unknown;
}

/** A reader bound to its endpoint, as the scheduler runs it (made by the catalog). */
export interface Source<S = unknown> extends Reader<S> {
  endpoint: ApiEndpoint;
  /** Human name of the endpoint for log lines, e.g. `GET spend-limit`. */
  describe: string;
}

/** What an endpoint's reader may depend on: the parts of the configuration that shape a query or a series. */
export interface ReaderOptions {
  /** MISTRAL_WORKSPACE_IDS: the workspaces listed, or `all` those GET workspaces lists (see per-workspace.ts). */
  workspaceIds: readonly string[] | 'all';
  /** MAX_WORKSPACES: most workspaces followed with `all`. */
  maxWorkspaces: number;
  analytics: AnalyticsConfig;
  /** The service tier of usage entries that name none (USAGE_ASSUMED_SERVICE_TIER); undefined: unknown. */
  assumedServiceTier?: 'standard' | 'priority' | undefined;
  /** AUDIT_EVENT_TYPES: the audit log event types with series. */
  auditEventTypes: readonly string[];
  /** Most API keys with series of their own (API_KEYS_LIMIT). */
  apiKeysLimit: number;
  /** MAX_MODELS: most models with series of their own in `usage` and `rate-limit`. */
  maxModels: number;
  /** SEAT_IDLE_DAYS and SEAT_PRICE_<PRODUCT>: the idle seats of `users`. */
  seats: SeatOptions;
}

/**
 * Which interval an endpoint follows unless its own `REFRESH_INTERVAL_<ID>`
 * is set: REFRESH_INTERVAL (billing) or ANALYTICS_REFRESH_INTERVAL.
 */
export type IntervalGroup = 'billing' | 'analytics';

/**
 * Everything about one Admin API endpoint, declared in its own module under
 * src/sources/ and listed once in src/sources/catalog.ts. The endpoint ids,
 * `MISTRAL_ENDPOINTS`, the interval settings, the path candidates, the docs
 * tables and the chart's values are all derived from these declarations.
 */
export interface Endpoint<Id extends string = string, S = unknown> {
  /** The `api_endpoint` label value and `MISTRAL_ENDPOINTS` name, snake_case. */
  readonly id: Id;
  /** For log lines and the status page, e.g. `GET spend-limit`. */
  readonly describe: string;
  /** Short name in settings help, e.g. `spend-limit`, `le Chat by_user_stats`. */
  readonly title: string;
  /** Its path below the base URL in each layout; one string when every layout agrees. */
  readonly paths: string | Readonly<Record<PathLayout, string>>;
  readonly intervalGroup: IntervalGroup;
  /** What it is asked, in words (the docs' endpoint table). */
  readonly query: string;
  /** Whether it is read once per `MISTRAL_WORKSPACE_IDS` workspace (its series then carry `workspace_id`); with `all`, it follows the workspaces endpoint. */
  readonly perWorkspace: boolean;
  /** The metric families it exports. */
  readonly families: readonly FamilyDef[];
  reader(options: ReaderOptions): Reader<S>;
}

/** Declares an endpoint (the identity function, for its types: the id stays a literal). */
export function defineEndpoint<const Id extends string, S>(endpoint: Endpoint<Id, S>): Endpoint<Id, S> {
  return endpoint;
}

/**
 * Why an entry of an answer could not be read: the `reason` label of
 * `mistral_exporter_unreadable_entries`.
 * - `missing`: a field the schema requires is absent or null;
 * - `not_a_number`: a number that is not one (or a count that is not whole, one beyond 1e±100, or a negative amount);
 * - `wrong_type`: an object, array or string where the schema has another type.
 */
export const UNREADABLE_REASONS = ['missing', 'not_a_number', 'wrong_type'] as const;
export type UnreadableReason = (typeof UNREADABLE_REASONS)[number];

/** Entries of one answer that were skipped, by reason, each with the JSON path of the first one. */
export type Unreadable = Partial<Record<UnreadableReason, { count: number; example: string }>>;

/**
 * The answer, or one entry of it, did not have the shape the exporter
 * understands. Thrown out of a source it refuses the whole answer (the last
 * good data stays); caught per entry (`readEach`) it skips only that entry.
 */
export class ParseError extends Error {
  override readonly name = 'ParseError';
  constructor(
    message: string,
    readonly reason: UnreadableReason = 'wrong_type',
  ) {
    super(message);
  }
}
