import { setMaxListeners } from 'node:events';
import { AdminApiError, type AdminApi, type ApiResponse, type QueryValue } from './admin-api/types.js';
import { ADVICE } from './advice.js';
import { deadlineSignal, type Clock, type TimerHandle } from './clock.js';
import { formatDuration } from './config/values.js';
import type { ApiEndpoint } from './endpoints.js';
import { renderChunk, type RenderedChunk } from './exposition.js';
import type { Logger } from './logger.js';
import { FirstTries, PeerUnavailable, type Peers } from './peers.js';
import { ParseError, type MetricFamily, type Source, type Unreadable } from './sources/types.js';

export interface SchedulerOptions {
  sources: readonly Source[];
  api: AdminApi;
  clock: Clock;
  /** For the interval jitter; default Math.random. */
  random?: () => number;
  logger: Logger;
  intervalsMs: Readonly<Partial<Record<ApiEndpoint, number>>>;
  maxStalenessMs: number;
  requestTimeoutMs: number;
  onParseError: (endpoint: ApiEndpoint) => void;
  /** Endpoints whose last good metric families are kept with their rendered form, for `families()` (the status page's). */
  keepFamilies?: readonly ApiEndpoint[];
  /**
   * Hands each endpoint's families over instead of rendering them (several
   * organizations are rendered together, src/organizations.ts): called with
   * a good refresh's families, and with undefined when they are withdrawn.
   * `chunks()` is then empty.
   */
  publish?: (endpoint: ApiEndpoint, families: readonly MetricFamily[] | undefined) => void;
}

/** What the scheduler knows of one endpoint, read at every scrape (own metrics) and by the status page. */
export interface EndpointStatus {
  endpoint: ApiEndpoint;
  up: boolean;
  intervalMs: number;
  /** ms since the epoch; undefined until the first success. */
  lastSuccessAt: number | undefined;
  /** undefined until the first refresh ended. */
  lastDurationMs: number | undefined;
  /** Per capped metric, the series its cap left out in the last good refresh. */
  seriesDropped: Readonly<Record<string, number>>;
  /** Entries of the last good answer skipped because they could not be read, by reason; undefined before the first success. */
  unreadable: Unreadable | undefined;
  /** Analytics: Unix seconds up to which the data served is complete (see `Reader.completeUntil`); withdrawn with that data. */
  completeUntil?: number | undefined;
}

/** What a failed refresh was, for logs, the status page and the next delay. */
export interface Failure {
  /** Stable across repeats of the same problem: a change of it is logged. */
  key: string;
  message: string;
  at: number;
  /** What was thrown: the status page's advice reads its kind, status and code (never shown as it is: `message` is). */
  error: unknown;
}

interface SourceState {
  source: Source;
  intervalMs: number;
  timer: TimerHandle | undefined;
  running: Promise<void> | undefined;
  tried: boolean;
  up: boolean;
  lastSuccessAt: number | undefined;
  lastDurationMs: number | undefined;
  failure: Failure | undefined;
  consecutiveFailures: number;
  nextRefreshAt: number | undefined;
  /** Series the source's caps left out in its last good refresh, per metric. */
  seriesDropped: Record<string, number>;
  /** Entries of its last good answer that could not be read. */
  unreadable: Unreadable | undefined;
  /** The rendered last good refresh, until it is older than the max staleness. */
  fresh: Fresh | undefined;
  /** Withdraws `fresh` (with a log line) when it turns stale. */
  stalenessTimer: TimerHandle | undefined;
}

interface Fresh {
  /** Undefined when the families are published rather than rendered here. */
  chunk: RenderedChunk | undefined;
  series: number;
  /** Only for the endpoints of `keepFamilies`. */
  families: readonly MetricFamily[] | undefined;
  fetchedAt: number;
  completeUntil: number | undefined;
  /** What the source shares with its peers (Reader.share). */
  shared: unknown;
  /** For an `answersOnly` source: what its refresh asked and was answered, in order. */
  asked: readonly Asked[] | undefined;
}

/** One request of a refresh and its answer: the query (as JSON), the path that answered, the SHA-256 of the answer's bytes. */
interface Asked {
  key: string;
  path: string;
  digest: string;
}

/** A query as Asked.key: what `read` notes of the reader's queries and `askAgain` compares the planned ones with. */
const queryKey = (query: Record<string, QueryValue> | undefined): string => JSON.stringify(query ?? {});

function sameAsked(a: readonly Asked[], b: readonly Asked[]): boolean {
  return a.length === b.length && a.every((x, i) => x.key === b[i]?.key && x.path === b[i]?.path && x.digest === b[i]?.digest);
}

/** What asking the last good refresh's queries again told (Scheduler.askAgain). */
type AskedAgain = { same: true } | { same: false; differs: { at: number; key: string; response: ApiResponse } | undefined };

/** Intervals are jittered by up to ±10% so that replicas and endpoints drift apart. */
const JITTER = 0.1;
/** A 403 is retried slowly: 5 × the interval, at most 15 minutes (never faster than the interval). */
const FORBIDDEN_FACTOR = 5;
const FORBIDDEN_MAX_MS = 15 * 60_000;
/**
 * The longest Retry-After honoured between refreshes: a longer (or absurd)
 * one would stop an endpoint for days on one bad header, so it is cut to
 * this and logged with the wait actually taken.
 */
export const MAX_RETRY_AFTER_MS = 60 * 60_000;

/**
 * Refreshes each source on its own interval, one refresh of a source at a
 * time, and keeps the rendered result of its last good refresh until it is
 * older than the max staleness. Scrapes read `chunks()`; they never wait for
 * or start a refresh.
 *
 * Staleness has one rule, `isFresh`: data older than MAX_STALENESS is never
 * served, whenever it is read. A timer per endpoint only makes the
 * withdrawal happen (and be logged) on time rather than at the next read.
 */
export class Scheduler {
  private readonly states = new Map<ApiEndpoint, SourceState>();
  /** What `statuses()` gave last. */
  private lastStatuses: readonly EndpointStatus[] | undefined;
  private readonly stopController = new AbortController();
  private readonly random: () => number;
  /** Loops run once started; a refresh before that (a test's) schedules nothing. */
  private started = false;
  private readonly firstTries: FirstTries;
  /** What the readers see of each other: shared digests of fresh data only. */
  private readonly peers: Peers;

  constructor(private readonly options: SchedulerOptions) {
    this.random = options.random ?? Math.random;
    this.firstTries = new FirstTries(options.sources.map((s) => s.endpoint));
    this.peers = {
      latest: (endpoint) => {
        const state = this.states.get(endpoint);
        return state === undefined ? undefined : this.freshData(state)?.shared;
      },
      tried: (endpoint, signal) => this.firstTries.wait(endpoint, signal),
    };
    for (const source of options.sources) {
      this.states.set(source.endpoint, {
        source,
        intervalMs: options.intervalsMs[source.endpoint] ?? 60_000,
        timer: undefined,
        running: undefined,
        tried: false,
        up: false,
        lastSuccessAt: undefined,
        lastDurationMs: undefined,
        failure: undefined,
        consecutiveFailures: 0,
        nextRefreshAt: undefined,
        seriesDropped: {},
        unreadable: undefined,
        fresh: undefined,
        stalenessTimer: undefined,
      });
    }
  }

  /** Starts every source's loop; the first refreshes begin at once. */
  start(): void {
    this.started = true;
    for (const state of this.states.values()) this.schedule(state, 0);
  }

  /** Stops the loops, aborts refreshes in flight and waits for them to end. */
  async stop(): Promise<void> {
    this.stopController.abort(new Error('exporter shutting down'));
    await this.whenIdle();
    const { clock } = this.options;
    for (const state of this.states.values()) {
      if (state.timer !== undefined) clock.clearTimeout(state.timer);
      if (state.stalenessTimer !== undefined) clock.clearTimeout(state.stalenessTimer);
      state.timer = undefined;
      state.stalenessTimer = undefined;
    }
  }

  /**
   * Refreshes one source now (or joins the refresh already running) and,
   * once started, schedules its next one. The loops call it; tests may too.
   */
  refresh(endpoint: ApiEndpoint): Promise<void> {
    const state = this.states.get(endpoint);
    if (!state) throw new Error(`no source for ${endpoint}`);
    if (state.running !== undefined) return state.running;
    if (state.timer !== undefined) this.options.clock.clearTimeout(state.timer);
    state.timer = undefined;
    state.running = this.run(state).finally(() => {
      state.running = undefined;
    });
    return state.running;
  }

  /** Resolves once no refresh is running (refreshes that start meanwhile are waited for too). */
  async whenIdle(): Promise<void> {
    for (;;) {
      const running = [...this.states.values()].flatMap((s) => (s.running ? [s.running] : []));
      if (running.length === 0) return;
      await Promise.allSettled(running);
    }
  }

  /** The rendered data of every source whose last good refresh is fresh enough, in source order. */
  chunks(): RenderedChunk[] {
    const out: RenderedChunk[] = [];
    // Read at every scrape: the clock once for all endpoints.
    const now = this.options.clock.now();
    for (const state of this.states.values()) {
      const f = this.freshData(state, now);
      if (f?.chunk) out.push(f.chunk);
    }
    return out;
  }

  /** True once every source has been tried once; it never turns false again. */
  ready(): boolean {
    for (const s of this.states.values()) if (!s.tried) return false;
    return true;
  }

  /**
   * Every endpoint's status: the same array (and objects) while none has
   * changed, so that the own metrics, which read it at every scrape, can tell
   * at a glance that there is nothing new to render.
   */
  statuses(): readonly EndpointStatus[] {
    if (this.lastStatuses === undefined || !this.statusesHold(this.lastStatuses)) {
      this.lastStatuses = [...this.states.values()].map(statusOf);
    }
    return this.lastStatuses;
  }

  private statusesHold(last: readonly EndpointStatus[]): boolean {
    if (last.length !== this.states.size) return false;
    let i = 0;
    for (const state of this.states.values()) if (!statusIs(last[i++] as EndpointStatus, state)) return false;
    return true;
  }

  /**
   * The metric families of the endpoint's last good refresh, exactly those
   * `/metrics` serves, while they are fresh; undefined otherwise, and for an
   * endpoint not in `keepFamilies`.
   */
  families(endpoint: ApiEndpoint): readonly MetricFamily[] | undefined {
    const state = this.states.get(endpoint);
    return state === undefined ? undefined : this.freshData(state)?.families;
  }

  /** Everything known of each endpoint, for the status page. */
  details(): Array<
    EndpointStatus & { describe: string; failure: Failure | undefined; nextRefreshAt: number | undefined; series: number | undefined }
  > {
    return [...this.states.values()].map((s) => ({
      ...statusOf(s),
      describe: s.source.describe,
      failure: s.failure,
      nextRefreshAt: s.nextRefreshAt,
      series: this.freshData(s)?.series,
    }));
  }

  private schedule(state: SourceState, delayMs: number): void {
    if (!this.started || this.stopController.signal.aborted) return;
    const { clock } = this.options;
    if (state.timer !== undefined) clock.clearTimeout(state.timer);
    state.nextRefreshAt = clock.now() + delayMs;
    state.timer = clock.setTimeout(() => {
      state.timer = undefined;
      void this.refresh(state.source.endpoint);
    }, delayMs);
  }

  private async run(state: SourceState): Promise<void> {
    const { clock, logger } = this.options;
    const { source, intervalMs } = state;
    const endpoint = source.endpoint;
    const started = clock.now();
    // A refresh, retries included, gives up after its interval, never sooner than one request timeout.
    const deadlineMs = Math.max(intervalMs, this.options.requestTimeoutMs);
    const deadline = deadlineSignal(clock, deadlineMs, () => new Error(`refresh deadline of ${formatDuration(deadlineMs)} passed`));
    const signal = AbortSignal.any([deadline.signal, this.stopController.signal]);
    // Each request of the refresh, queued or in flight, listens for its abort: one per workspace and zone, many with MISTRAL_WORKSPACE_IDS=all.
    setMaxListeners(0, signal);
    let nextDelay = this.jittered(intervalMs);

    try {
      const last = state.fresh;
      const { snapshot, asked, notRead } = await this.read(source, last, signal, started);
      const { publish } = this.options;
      let families: MetricFamily[] | undefined;
      let rendered: Pick<Fresh, 'chunk' | 'series' | 'families'>;
      // The same answers as the last good refresh: by answersOnly, the same snapshot, so everything made of it is kept.
      const same = last?.asked !== undefined && asked !== undefined && sameAsked(last.asked, asked) ? last : undefined;
      if (same !== undefined) {
        // Its families, already rendered (or published), kept as they are.
        rendered = same;
        logger.debug(
          { api_endpoint: endpoint },
          `${source.describe}: the same answers as the last refresh${notRead ? ' (asked again, not read)' : ''}; its series are kept as rendered`,
        );
      } else {
        families = await (source.toFamiliesSliced?.(snapshot) ?? source.toFamilies(snapshot));
        const chunk = publish === undefined ? await renderChunk(families, last?.chunk) : undefined;
        rendered = {
          chunk,
          series: chunk?.series ?? families.reduce((n, f) => n + f.samples.length, 0),
          families: this.options.keepFamilies?.includes(endpoint) ? families : undefined,
        };
        // Kept from the last good refresh when its answers came again (what a peer reads of it then stays the same object).
        state.seriesDropped = source.seriesDropped?.(snapshot) ?? {};
        this.noteUnreadable(state, source.unreadable?.(snapshot) ?? {});
      }
      const now = clock.now();
      state.fresh = {
        ...rendered,
        asked,
        fetchedAt: now,
        completeUntil: same === undefined ? source.completeUntil?.(snapshot) : same.completeUntil,
        shared: same === undefined ? source.share?.(snapshot) : same.shared,
      };
      const { series } = rendered;
      if (families !== undefined) publish?.(endpoint, families);
      this.watchStaleness(state);
      if (!state.up && state.failure) {
        logger.info(
          { api_endpoint: endpoint, failed_refreshes: state.consecutiveFailures },
          `${source.describe} answers again after ${state.consecutiveFailures} failed refresh(es)`,
        );
      } else if (!state.tried) {
        logger.info({ api_endpoint: endpoint, series }, `${source.describe}: first refresh succeeded`);
      }
      state.up = true;
      state.failure = undefined;
      state.consecutiveFailures = 0;
      state.lastSuccessAt = now;
    } catch (err) {
      if (this.stopController.signal.aborted) return;
      const failure = describeFailure(err, source.describe, clock.now());
      if (isParseFailure(err)) this.options.onParseError(endpoint);
      if (err instanceof AdminApiError && err.kind === 'http' && err.status === 403) {
        nextDelay = Math.max(intervalMs, Math.min(FORBIDDEN_FACTOR * intervalMs, FORBIDDEN_MAX_MS));
      }
      if (err instanceof AdminApiError && err.details.retryAfterMs !== undefined) {
        nextDelay = Math.max(nextDelay, Math.min(err.details.retryAfterMs, MAX_RETRY_AFTER_MS));
      }
      const fields = { api_endpoint: endpoint, next_try_in: formatDuration(Math.round(nextDelay)) };
      if (failure.key !== state.failure?.key || state.up) {
        logger[failure.level](fields, failure.message);
      } else {
        logger.debug({ ...fields, failed_refreshes: state.consecutiveFailures + 1 }, failure.message);
      }
      state.up = false;
      state.failure = { key: failure.key, message: failure.message, at: failure.at, error: err };
      state.consecutiveFailures += 1;
    } finally {
      deadline.dispose();
      state.tried = true;
      this.firstTries.done(endpoint);
      state.lastDurationMs = clock.now() - started;
      this.schedule(state, nextDelay);
    }
  }

  /**
   * Reads the endpoint: its snapshot, and for an `answersOnly` source what
   * was asked and answered (undefined when the answers have no digest).
   * When the last good refresh's answers come again to its queries asked
   * again (`askAgain`), the reader does not run (`notRead`: no snapshot).
   */
  private async read(
    source: Source,
    last: Fresh | undefined,
    signal: AbortSignal,
    started: number,
  ): Promise<{ snapshot: unknown; asked: readonly Asked[] | undefined; notRead: boolean }> {
    const { api, logger } = this.options;
    const digest = source.answersOnly === true;
    const again = digest && last?.asked !== undefined ? await this.askAgain(source, last.asked, signal, started) : undefined;
    if (again?.same === true) return { snapshot: undefined, asked: last?.asked, notRead: true };
    const handed = again?.differs;
    const answers: Asked[] = [];
    let digested = digest;
    let index = 0;
    const snapshot = await source.fetch({
      get: async (query) => {
        const at = index++;
        const key = queryKey(query);
        const response =
          handed !== undefined && handed.at === at && handed.key === key
            ? handed.response
            : await api.get(source.endpoint, { query, signal, digest });
        if (!digested) return response;
        if (response.digest === undefined) digested = false;
        else answers.push({ key, path: response.path, digest: response.digest });
        return response;
      },
      signal,
      now: started,
      logger,
      peers: this.peers,
    });
    return { snapshot, asked: digested ? answers : undefined, notRead: false };
  }

  /**
   * For an `answersOnly` source whose queries now are its last good
   * refresh's (Reader.plannedQueries): asks them again in turn, each unless
   * its answer is the same bytes as then. `same` when every answer is;
   * otherwise the first that differs, read, for the reader's fetch to take
   * rather than ask again. Undefined when the queries are not the same.
   */
  private async askAgain(source: Source, asked: readonly Asked[], signal: AbortSignal, now: number): Promise<AskedAgain | undefined> {
    const planned = source.plannedQueries?.(now);
    if (planned === undefined || planned.length !== asked.length) return undefined;
    const keys = planned.map(queryKey);
    if (keys.some((key, i) => key !== asked[i]?.key)) return undefined;
    for (let i = 0; i < asked.length; i++) {
      const before = asked[i] as Asked;
      const response = await this.options.api.get(source.endpoint, {
        query: planned[i],
        signal,
        digest: true,
        unlessDigest: before.digest,
      });
      if (response.unchanged === true && response.path === before.path) continue;
      // The same bytes from another path variant have no body to hand over: the reader asks again.
      return { same: false, differs: response.unchanged === true ? undefined : { at: i, key: before.key, response } };
    }
    return { same: true };
  }

  /** Keeps what a good answer left unread, and logs it when the reasons change (not at every refresh). */
  private noteUnreadable(state: SourceState, unreadable: Unreadable): void {
    const key = (u: Unreadable | undefined) =>
      Object.keys(u ?? {})
        .sort()
        .join(',');
    const changed = key(unreadable) !== key(state.unreadable);
    state.unreadable = unreadable;
    if (!changed) return;
    const entries = Object.entries(unreadable) as Array<[string, { count: number; example: string }]>;
    if (entries.length === 0) {
      this.options.logger.info(
        { api_endpoint: state.source.endpoint },
        `${state.source.describe}: every entry of the answer is readable again`,
      );
      return;
    }
    const total = entries.reduce((n, [, e]) => n + e.count, 0);
    this.options.logger.warn(
      {
        api_endpoint: state.source.endpoint,
        unreadable: Object.fromEntries(entries.map(([reason, e]) => [reason, e.count])),
        first: entries[0]?.[1].example,
      },
      `${state.source.describe}: ${total} entr${total === 1 ? 'y' : 'ies'} of the answer could not be read and were left out (the rest is served); see mistral_exporter_unreadable_entries`,
    );
  }

  /** The last good data of `state`, or undefined once it is older than the max staleness (then withdrawn, with a log line). */
  private freshData(state: SourceState, now = this.options.clock.now()): Fresh | undefined {
    const { fresh } = state;
    if (fresh === undefined) return undefined;
    if (now - fresh.fetchedAt <= this.options.maxStalenessMs) return fresh;
    state.fresh = undefined;
    this.options.publish?.(state.source.endpoint, undefined);
    this.options.logger.warn(
      { api_endpoint: state.source.endpoint, last_success: new Date(fresh.fetchedAt).toISOString() },
      `data of ${state.source.endpoint} is older than MAX_STALENESS (${formatDuration(this.options.maxStalenessMs)}): its series are withdrawn until a refresh succeeds`,
    );
    return undefined;
  }

  /** Arms the timer that withdraws the data of `state` as soon as it turns stale. */
  private watchStaleness(state: SourceState): void {
    const { clock, maxStalenessMs } = this.options;
    if (state.stalenessTimer !== undefined) clock.clearTimeout(state.stalenessTimer);
    state.stalenessTimer = undefined;
    if (this.stopController.signal.aborted || state.fresh === undefined) return;
    state.stalenessTimer = clock.setTimeout(
      () => {
        state.stalenessTimer = undefined;
        this.freshData(state);
      },
      state.fresh.fetchedAt + maxStalenessMs - clock.now() + 1,
    );
  }

  private jittered(intervalMs: number): number {
    return Math.round(intervalMs * (1 + (this.random() * 2 - 1) * JITTER));
  }
}

function statusOf(s: SourceState): EndpointStatus {
  return {
    endpoint: s.source.endpoint,
    up: s.up,
    intervalMs: s.intervalMs,
    lastSuccessAt: s.lastSuccessAt,
    lastDurationMs: s.lastDurationMs,
    seriesDropped: s.seriesDropped,
    unreadable: s.unreadable,
    completeUntil: s.fresh?.completeUntil,
  };
}

/** Whether `status` still says what `statusOf(s)` would: every field of it compared, without making one (read at every scrape). */
function statusIs(status: EndpointStatus, s: SourceState): boolean {
  return (
    status.endpoint === s.source.endpoint &&
    status.up === s.up &&
    status.intervalMs === s.intervalMs &&
    status.lastSuccessAt === s.lastSuccessAt &&
    status.lastDurationMs === s.lastDurationMs &&
    status.seriesDropped === s.seriesDropped &&
    status.unreadable === s.unreadable &&
    status.completeUntil === s.fresh?.completeUntil
  );
}

function isParseFailure(err: unknown): boolean {
  return err instanceof ParseError || (err instanceof AdminApiError && err.kind === 'invalid_json');
}

/** A log line an operator can act on, and a key that changes only when the problem does. */
export function describeFailure(
  err: unknown,
  what: string,
  at: number,
): { key: string; message: string; level: 'warn' | 'error'; at: number } {
  if (err instanceof ParseError) {
    return {
      key: 'parse',
      message: `${what}: the answer could not be understood (${err.message}); keeping the last good data`,
      level: 'warn',
      at,
    };
  }
  if (err instanceof PeerUnavailable) {
    return { key: 'peer', message: `${what}: ${err.message}; keeping the last good data`, level: 'warn', at };
  }
  if (!(err instanceof AdminApiError)) {
    const message = err instanceof Error ? err.message : String(err);
    return { key: `internal:${message}`, message: `${what}: refresh failed unexpectedly: ${message}`, level: 'error', at };
  }
  const key = `${err.kind}:${err.status ?? ''}`;
  switch (err.kind) {
    case 'http':
      if (err.status === 401) {
        return { key, message: `${what}: ${ADVICE.unauthorized}`, level: 'error', at };
      }
      if (err.status === 403) {
        return {
          key,
          message: `${what}: ${ADVICE.forbidden}; retrying slowly`,
          level: 'error',
          at,
        };
      }
      return { key, message: `${what}: ${err.message}`, level: 'warn', at };
    case 'not_found':
      return {
        key,
        message: `${what}: ${ADVICE.notFound}`,
        level: 'error',
        at,
      };
    case 'rate_limited':
      return { key, message: `${what}: ${ADVICE.rateLimited}: ${err.message}`, level: 'warn', at };
    case 'too_large':
      return { key, message: `${what}: ${ADVICE.tooLarge}: ${err.message}`, level: 'error', at };
    case 'invalid_json':
      return { key, message: `${what}: the answer is not JSON (${err.message}); keeping the last good data`, level: 'warn', at };
    default:
      return { key, message: `${what}: ${err.message}`, level: 'warn', at };
  }
}
