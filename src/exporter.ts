import type { FastifyInstance } from 'fastify';
import type { Dispatcher } from 'undici';
import { AdminApiClient } from './admin-api/client.js';
import type { ClientObserver, RetryPolicy } from './admin-api/types.js';
import { systemClock, type Clock } from './clock.js';
import type { Config, Organization } from './config/index.js';
import { API_ENDPOINTS } from './endpoints.js';
import type { FileWatcher } from './file-watch.js';
import { RotatingSecret, watchKeyFile } from './key-rotation.js';
import type { Logger } from './logger.js';
import { MergedExposition } from './organizations.js';
import { OwnMetrics } from './own-metrics.js';
import { type EndpointStatus, Scheduler } from './scheduler.js';
import type { Secret } from './secret.js';
import { buildApp } from './server.js';
import { STATUS_PAGE_ENDPOINTS } from './status-page.js';
import { createSources, readerOptionsOf } from './sources/catalog.js';
import { REVISION, USER_AGENT, VERSION } from './version.js';
import { createWebListener } from './web-listener.js';

export const DEFAULT_RETRY: RetryPolicy = {
  maxRetries: 3,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 60_000,
};

export interface ExporterDeps {
  logger: Logger;
  clock?: Clock;
  random?: () => number;
  dispatcher?: Dispatcher;
  retry?: RetryPolicy;
  /** Process metrics vary from run to run; golden-file tests turn them off. */
  processMetrics?: boolean;
  /** How often the key file and the web config's files are read for changes (default 5s). */
  filePollIntervalMs?: number;
}

export interface Exporter {
  app: FastifyInstance;
  /** The first organization's scheduler: the only one without a config file. */
  scheduler: Scheduler;
  /** Every organization read, in the config file's order (one without a file). */
  organizations: readonly OrganizationRuntime[];
  ownMetrics: OwnMetrics;
  /** The first organization's client. */
  client: AdminApiClient;
  /** Starts every organization's refreshes. */
  start(): void;
  /** Resolves once no refresh nor render is running. */
  whenIdle(): Promise<void>;
  /** Resolves once what the refreshes so far gave is rendered (several organizations render in the background). */
  whenRendered(): Promise<void>;
  /** The key's values lately (it is re-read from its file), for scrubbing logs. */
  secrets(): readonly string[];
  /** Starts re-reading the key file and the web config's files when they change. */
  watchFiles(): void;
  /** One read of those files now (tests); a change is applied at the second poll that sees it. */
  pollFiles(): Promise<void>;
  /** Stops the refreshes, the file watches and the HTTP client (the app is closed by whoever listens). */
  close(): Promise<void>;
}

export interface ClientDeps extends Pick<ExporterDeps, 'logger' | 'random' | 'dispatcher' | 'retry'> {
  clock: Clock;
  observer: ClientObserver;
  /** Network error codes reported at once instead of retried (see AdminApiClientOptions). */
  failFast?: (code: string) => boolean;
}

/** The Admin API client of a checked configuration: the exporter's, and `check`'s, alike. */
export function createApiClient(config: Config, deps: ClientDeps): AdminApiClient {
  if (config.apiKey === undefined) throw new Error('no API key: a real exporter needs one (demo mode supplies its own)');
  warnIfPlainHttp(config.apiUrl, deps.logger);
  return new AdminApiClient({
    baseUrl: config.apiUrl,
    apiKey: config.apiKey,
    pathLayout: config.pathLayout,
    requestTimeoutMs: config.requestTimeoutMs,
    maxResponseBytes: config.maxResponseBytes,
    maxConcurrency: config.maxConcurrentRequests,
    retry: deps.retry ?? DEFAULT_RETRY,
    clock: deps.clock,
    random: deps.random,
    logger: deps.logger,
    observer: deps.observer,
    userAgent: USER_AGENT,
    dispatcher: deps.dispatcher,
    failFast: deps.failFast,
  });
}

/** One organization the exporter reads: its own client, refreshes and staleness. */
export interface OrganizationRuntime {
  /** Its `org` label; undefined for the one organization of an environment configuration. */
  name: string | undefined;
  config: Config;
  scheduler: Scheduler;
  client: AdminApiClient;
}

/**
 * Builds the whole exporter from a checked configuration; refreshes start with
 * `start()`, file watches with `watchFiles()`. Throws WebConfigError on a web
 * config (or bearer token file) that cannot be used.
 *
 * `organizations` (from `--config.file`): each is read with its own
 * configuration, and every series it gives carries its `org` label; `config`
 * is then the process's (listener, limits). Without it, `config` is the one
 * organization's too, and no series has an `org` label.
 */
export function createExporter(config: Config, deps: ExporterDeps, organizations?: readonly Organization[]): Exporter {
  const clock = deps.clock ?? systemClock;
  const { logger } = deps;
  const orgs: ReadonlyArray<{ name: string | undefined; config: Config }> = organizations ?? [{ name: undefined, config }];
  for (const org of orgs) {
    if (org.config.apiKey === undefined) throw new Error('no API key: a real exporter needs one (demo mode supplies its own)');
  }
  const web =
    config.webConfigFile === undefined && config.webBearerTokenFile === undefined
      ? undefined
      : createWebListener({
          path: config.webConfigFile,
          bearerTokenFile: config.webBearerTokenFile,
          openProbes: config.webOpenProbes,
          logger,
          clock,
          pollIntervalMs: deps.filePollIntervalMs,
        });
  const watchers: FileWatcher[] = web === undefined ? [] : [web];

  const sourcesOf = orgs.map((org) => createSources(org.config.endpoints, readerOptionsOf(org.config)));
  const ownMetrics = new OwnMetrics({
    version: VERSION,
    revision: REVISION,
    endpoints: orgs.map((org, i) => ({ org: org.name, endpoints: (sourcesOf[i] ?? []).map((s) => s.endpoint) })),
    // Read at scrape time, once the schedulers below exist.
    statuses: everyStatus(() => runtimes),
    processMetrics: deps.processMetrics,
  });
  const merged =
    organizations !== undefined
      ? new MergedExposition(
          orgs.map((org) => org.name as string),
          API_ENDPOINTS.filter((e) => sourcesOf.some((sources) => sources.some((s) => s.endpoint === e))),
          logger,
        )
      : undefined;
  const secretsOf: Array<() => readonly string[]> = [];
  const runtimes: OrganizationRuntime[] = orgs.map((org, i) => {
    const orgLogger = org.name === undefined ? logger : logger.child({ org: org.name });
    const { apiKey, watcher, values } = organizationKey(org, { logger: orgLogger, clock, intervalMs: deps.filePollIntervalMs });
    if (watcher !== undefined) watchers.push(watcher);
    secretsOf.push(values);
    const observer = org.name === undefined ? ownMetrics : ownMetrics.observerFor(org.name);
    const client = createApiClient({ ...org.config, apiKey }, { ...deps, logger: orgLogger, clock, observer });
    const name = org.name;
    const scheduler = new Scheduler({
      sources: sourcesOf[i] ?? [],
      api: client,
      clock,
      random: deps.random,
      logger: orgLogger,
      intervalsMs: org.config.refreshIntervalsMs,
      maxStalenessMs: org.config.maxStalenessMs,
      requestTimeoutMs: org.config.requestTimeoutMs,
      onParseError: (endpoint) => ownMetrics.parseError(endpoint, name),
      keepFamilies: STATUS_PAGE_ENDPOINTS,
      ...(merged === undefined || name === undefined ? {} : { publish: (endpoint, families) => merged.update(name, endpoint, families) }),
    });
    return { name, config: org.config, scheduler, client };
  });
  const first = runtimes[0] as OrganizationRuntime;
  const secrets = (): readonly string[] => secretsOf.flatMap((of) => of());
  const app = buildApp({
    scheduler: {
      chunks: () => (merged === undefined ? first.scheduler.chunks() : merged.chunks()),
      ready: () => runtimes.every((r) => r.scheduler.ready()),
    },
    ownMetrics,
    logger,
    statusPage: {
      version: VERSION,
      demo: config.demo,
      organizations: () =>
        runtimes.map((r) => ({
          name: r.name,
          apiUrl: r.config.apiUrl,
          pathLayout: r.config.pathLayout,
          scheduler: r.scheduler,
          pathInUse: (endpoint) => r.client.pathInUse(endpoint),
        })),
      secrets,
      now: () => clock.now(),
    },
    limits: config.server,
    https: web?.httpsOptions,
  });
  web?.install(app);
  return {
    app,
    scheduler: first.scheduler,
    organizations: runtimes,
    ownMetrics,
    client: first.client,
    secrets,
    start() {
      for (const r of runtimes) r.scheduler.start();
    },
    async whenIdle() {
      await Promise.all(runtimes.map((r) => r.scheduler.whenIdle()));
      await merged?.whenIdle();
    },
    async whenRendered() {
      await merged?.whenIdle();
    },
    watchFiles() {
      for (const w of watchers) w.start();
    },
    async pollFiles() {
      await Promise.all(watchers.map((w) => w.poll()));
    },
    async close() {
      for (const w of watchers) w.stop();
      await Promise.all(runtimes.map((r) => r.scheduler.stop()));
      await merged?.whenIdle();
      await Promise.all(runtimes.map((r) => r.client.close()));
    },
  };
}

/**
 * Every organization's endpoint statuses, labelled with its `org` when it is
 * one of several: the same array while no scheduler's statuses changed (the
 * own metrics read them at every scrape, and tell by that there is nothing
 * new to render).
 */
function everyStatus(runtimes: () => readonly OrganizationRuntime[]): () => ReadonlyArray<EndpointStatus & { org?: string }> {
  let lastParts: ReadonlyArray<readonly EndpointStatus[]> = [];
  let last: ReadonlyArray<EndpointStatus & { org?: string }> = [];
  return () => {
    const all = runtimes();
    const only = all[0];
    if (all.length === 1 && only?.name === undefined) return only?.scheduler.statuses() ?? [];
    const parts = all.map((r) => r.scheduler.statuses());
    if (parts.length !== lastParts.length || parts.some((p, i) => p !== lastParts[i])) {
      lastParts = parts;
      last = all.flatMap((r, i) => (parts[i] as readonly EndpointStatus[]).map((s) => (r.name === undefined ? s : { ...s, org: r.name })));
    }
    return last;
  };
}

/**
 * An organization's key: re-read from its file when it comes from one (the
 * watcher to start), and every value it had lately with the user-id hash
 * key, for scrubbing logs and pages.
 */
function organizationKey(
  org: { name: string | undefined; config: Config },
  deps: { logger: Logger; clock: Clock; intervalMs: number | undefined },
): { apiKey: Secret; watcher: FileWatcher | undefined; values: () => readonly string[] } {
  const { config, name } = org;
  const hashKey = config.analytics.userIdHashKey;
  const hashKeys = hashKey === undefined ? [] : [hashKey.reveal()];
  const given = config.apiKey as Secret;
  if (config.apiKeyFile === undefined) return { apiKey: given, watcher: undefined, values: () => [given.reveal(), ...hashKeys] };
  const rotating = new RotatingSecret(given);
  const watcher = watchKeyFile({
    file: config.apiKeyFile,
    secret: rotating,
    setting: name === undefined ? 'MISTRAL_ADMIN_API_KEY_FILE' : `MISTRAL_ADMIN_API_KEY_FILE of organization ${name}`,
    logger: deps.logger,
    clock: deps.clock,
    intervalMs: deps.intervalMs,
  });
  return { apiKey: rotating, watcher, values: () => [...rotating.values(), ...hashKeys] };
}

/**
 * The key goes in a header of every request: over plain HTTP anyone on the
 * path reads it. Said once, when the client is made at start; a loopback
 * address (a local proxy, the demo's simulator, a test double) is not a path
 * anyone else is on.
 */
function warnIfPlainHttp(apiUrl: string, logger: Logger): void {
  const url = new URL(apiUrl);
  if (url.protocol !== 'http:') return;
  const host = url.hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host)) return;
  logger.warn(
    { api_url: apiUrl },
    `MISTRAL_ADMIN_API_URL is plain http://, not https://: the admin key is sent readable to ${url.host} and anything on the way; use https://`,
  );
}
