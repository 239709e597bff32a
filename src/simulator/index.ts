/**
 * A simulated Mistral Admin API (usage metrics surface), written from the
 * public API reference only. Used by tests as the fake upstream and by the
 * demo mode. See `truth.ts` for the test oracle.
 */
import { systemClock } from '../clock.js';
import type { AuditState } from './audit.js';
import { FaultQueue, type Fault } from './faults.js';
import { answer, type Query, type QueryLists } from './handlers.js';
import { createOrg } from './org.js';
import { ALL_LAYOUTS, normaliseBasePath, routeTable, type Layout, type SimEndpoint } from './routes.js';
import { startHttpFront, type RecordedRequest } from './server.js';
import { analyticsLoadedUntil } from './time.js';
import { createTruth, type SimulatorTruth } from './truth.js';
import { newWorkspace, noWorkspaceChanges } from './workspaces.js';
import type { SpendState } from './usage.js';

export type { Fault } from './faults.js';
export type { Layout, SimEndpoint } from './routes.js';
export type { RecordedRequest } from './server.js';
export type { SimulatorTruth } from './truth.js';
export type { UsageTruthRow } from './usage.js';
export { ANALYTICS_PATHS } from './routes.js';

export const DEFAULT_SPEND_LIMIT = 5000;

export interface SimulatorOptions {
  /** ms since epoch; default the system clock. */
  now?: () => number;
  /** default 1 */
  seed?: number;
  /** default '/api/admin' */
  basePath?: string;
  /** Which analytics path layouts answer (others 404); default all three. */
  layouts?: Layout[];
  /** default '127.0.0.1' */
  host?: string;
  /** default 0 (a free port) */
  port?: number;
  /**
   * Keep every request in `requests` (default true, for tests). A simulator
   * that runs for days (the demo, the CLI) turns it off, or that list would
   * grow for ever.
   */
  recordRequests?: boolean;
  /** When set, requests must carry it in `x-api-key` or `Authorization: Bearer`, else 401. */
  apiKey?: string;
  /**
   * Analytics days the data lake has not loaded yet: the last N complete UTC
   * days (and today) have no element in the Vibe Code daily arrays, no
   * by_time_stats bucket, and count in no by_user/by_agent aggregate.
   * Default 0: everything up to now is loaded.
   */
  unloadedDays?: number;
  /**
   * Shapes beyond the common one (default false): a top-level usage category
   * without `models`, gpu_hour and reserved_instance usage, a non-zero legacy
   * `vibe_usage`, `usage_limit_organization` in spend-limit, and negative
   * numbers (a price, an entry) that the exporter must refuse.
   */
  oddShapes?: boolean;
  /** Answer `usage?api_zone=` with every zone's usage, as a server ignoring the filter would (default false). */
  ignoreZoneFilter?: boolean;
  /**
   * At most this many entries per page of `api-keys` and `users`, whatever `limit` or `page_size` asks,
   * as a server with a lower cap than the documented default would (default:
   * no cap).
   */
  maxPageSize?: number;
  org?: {
    users?: number;
    agents?: number;
    workspaces?: number;
    tools?: number;
    /** API keys listed at any instant; default 40. */
    apiKeys?: number;
    /** EUR; null: no limit. Default 5000. */
    spendLimit?: number | null;
    /** How busy the audit log is (entries per hour scale with it); default 1. */
    auditActivity?: number;
  };
}

export interface Simulator {
  /** Base URL, e.g. http://127.0.0.1:PORT/api/admin */
  readonly url: string;
  /** Every request received, in arrival order (non-GET ones included); empty when `recordRequests` is false. */
  readonly requests: RecordedRequest[];
  /** Applies `fault` to the next `times` requests of `endpoint` (default: every request until cleared). */
  setFault(endpoint: SimEndpoint, fault: Fault, times?: number): void;
  clearFaults(): void;
  setSpendLimit(limit: number | null): void;
  setPaymentFailed(failed: boolean): void;
  /** Creates a workspace (listed by GET workspaces from now on, with no usage; its limit in EUR unless `currency`); returns its id. */
  addWorkspace(o: { name: string; spendLimit: number | null; currency?: string }): string;
  /** Archives a workspace: GET workspaces lists it only with is_archived=true from now on. */
  archiveWorkspace(id: string): void;
  /** The JSON body the simulator would serve for this endpoint and query right now (a 422 body when invalid). */
  bodyFor(endpoint: SimEndpoint, query?: Record<string, string>, lists?: Record<string, string[]>): unknown;
  /** Ground truth computed from the simulator's own generation, not from the served JSON. */
  truth: SimulatorTruth;
  /** Stops listening and ends every connection, hanging and delayed requests included. */
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const now = options.now ?? systemClock.now;
  const nowSeconds = () => Math.floor(now() / 1000);
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const org = createOrg(seed, options.org);
  const spend: SpendState = {
    limit: options.org?.spendLimit === undefined ? DEFAULT_SPEND_LIMIT : options.org.spendLimit,
    paymentFailed: false,
  };
  const audit: AuditState = { activity: options.org?.auditActivity ?? 1 };
  const unloadedDays = options.unloadedDays ?? 0;
  if (!Number.isSafeInteger(unloadedDays) || unloadedDays < 0)
    throw new RangeError(`unloadedDays must be a whole number of days, 0 or more, got ${unloadedDays}`);
  const loadedUntil = () => analyticsLoadedUntil(nowSeconds(), unloadedDays);
  const faults = new FaultQueue();
  const requests: RecordedRequest[] = [];
  const shapes = { oddShapes: options.oddShapes ?? false };
  const ignoreZoneFilter = options.ignoreZoneFilter ?? false;
  const workspaceChanges = noWorkspaceChanges();
  const respond = (endpoint: SimEndpoint, query: Query, lists: QueryLists = {}) =>
    answer(
      {
        org,
        spend,
        nowSeconds: nowSeconds(),
        analyticsLoadedUntilSeconds: loadedUntil(),
        shapes,
        ignoreZoneFilter,
        audit,
        nowMs: now(),
        maxPageSize: options.maxPageSize,
        workspaceChanges,
      },
      endpoint,
      query,
      lists,
    );
  const front = await startHttpFront({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    basePath: normaliseBasePath(options.basePath ?? '/api/admin'),
    routes: routeTable(options.layouts ?? ALL_LAYOUTS),
    apiKey: options.apiKey,
    faults,
    requests,
    record: options.recordRequests ?? true,
    answer: respond,
  });
  return {
    url: front.url,
    requests,
    setFault: (endpoint, fault, times) => faults.set(endpoint, fault, times),
    clearFaults: () => faults.clear(),
    setSpendLimit: (limit) => {
      spend.limit = limit;
    },
    setPaymentFailed: (failed) => {
      spend.paymentFailed = failed;
    },
    addWorkspace: (o) => {
      const workspace = newWorkspace(org, workspaceChanges, o);
      workspaceChanges.added.push(workspace);
      return workspace.uuid;
    },
    archiveWorkspace: (id) => {
      workspaceChanges.archived.add(id);
    },
    bodyFor: (endpoint, query = {}, lists = {}) => respond(endpoint, query, lists).body,
    truth: createTruth(org, spend, nowSeconds, { audit, nowMs: now }, loadedUntil, shapes, workspaceChanges),
    close: () => front.close(),
  };
}
