import type { FastifyInstance } from 'fastify';
import type { Dispatcher } from 'undici';
import { AdminApiClient } from './admin-api/client.js';
import type { ClientObserver, RetryPolicy } from './admin-api/types.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config/index.js';
import type { FileWatcher } from './file-watch.js';
import { RotatingSecret, watchKeyFile } from './key-rotation.js';
import type { Logger } from './logger.js';
import { OwnMetrics } from './own-metrics.js';
import { Scheduler, type EndpointStatus } from './scheduler.js';
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
  scheduler: Scheduler;
  ownMetrics: OwnMetrics;
  client: AdminApiClient;
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

/**
 * Builds the whole exporter from a checked configuration; refreshes start with
 * `scheduler.start()`, file watches with `watchFiles()`. Throws WebConfigError
 * on a web config (or bearer token file) that cannot be used.
 */
export function createExporter(config: Config, deps: ExporterDeps): Exporter {
  const clock = deps.clock ?? systemClock;
  const { logger } = deps;
  if (config.apiKey === undefined) throw new Error('no API key: a real exporter needs one (demo mode supplies its own)');
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
  let apiKey = config.apiKey;
  if (config.apiKeyFile !== undefined) {
    const rotating = new RotatingSecret(apiKey);
    apiKey = rotating;
    watchers.push(
      watchKeyFile({
        file: config.apiKeyFile,
        secret: rotating,
        setting: 'MISTRAL_ADMIN_API_KEY_FILE',
        logger,
        clock,
        intervalMs: deps.filePollIntervalMs,
      }),
    );
  }

  const sources = createSources(config.endpoints, readerOptionsOf(config));
  const endpoints = sources.map((s) => s.endpoint);
  const ownMetrics = new OwnMetrics({
    version: VERSION,
    revision: REVISION,
    endpoints,
    // Read at scrape time, once the scheduler below exists.
    statuses: (): EndpointStatus[] => scheduler.statuses(),
    processMetrics: deps.processMetrics,
  });
  const client = createApiClient({ ...config, apiKey }, { ...deps, clock, observer: ownMetrics });
  const scheduler = new Scheduler({
    sources,
    api: client,
    clock,
    random: deps.random,
    logger,
    intervalsMs: config.refreshIntervalsMs,
    maxStalenessMs: config.maxStalenessMs,
    requestTimeoutMs: config.requestTimeoutMs,
    onParseError: (endpoint) => ownMetrics.parseError(endpoint),
    keepFamilies: STATUS_PAGE_ENDPOINTS,
  });
  const hashKey = config.analytics.userIdHashKey;
  const secrets = (): readonly string[] => [
    ...(apiKey instanceof RotatingSecret ? apiKey.values() : [apiKey.reveal()]),
    ...(hashKey === undefined ? [] : [hashKey.reveal()]),
  ];
  const app = buildApp({
    scheduler,
    ownMetrics,
    logger,
    statusPage: {
      version: VERSION,
      demo: config.demo,
      // One organization today; a configuration of several gives one entry each.
      organizations: () => [
        {
          name: undefined,
          apiUrl: config.apiUrl,
          pathLayout: config.pathLayout,
          scheduler,
          pathInUse: (endpoint) => client.pathInUse(endpoint),
        },
      ],
      secrets,
      now: () => clock.now(),
    },
    limits: config.server,
    https: web?.httpsOptions,
  });
  web?.install(app);
  return {
    app,
    scheduler,
    ownMetrics,
    client,
    secrets,
    watchFiles() {
      for (const w of watchers) w.start();
    },
    async pollFiles() {
      await Promise.all(watchers.map((w) => w.poll()));
    },
    async close() {
      for (const w of watchers) w.stop();
      await scheduler.stop();
      await client.close();
    },
  };
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
