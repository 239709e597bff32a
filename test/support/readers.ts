import type { ApiResponse, QueryValue } from '../../src/admin-api/types.js';
import type { AnalyticsConfig } from '../../src/config/index.js';
import type { AnalyticsWindow } from '../../src/config/settings.js';
import type { Logger } from '../../src/logger.js';
import { NO_PEERS } from '../../src/peers.js';
import { DEFAULT_AUDIT_EVENT_TYPES } from '../../src/sources/audit-events.js';
import type { FetchContext, ReaderOptions } from '../../src/sources/types.js';
import { captureLogs } from './logs.js';

const DAY_MS = 86_400_000;

export const window = (days: number): AnalyticsWindow => ({ label: `${days}d`, ms: days * DAY_MS, days });

/** Reader options as the configuration would make them, with the defaults of the settings table unless overridden. */
export function readerOptions(
  o: {
    workspaceIds?: string[] | 'all';
    maxWorkspaces?: number;
    analytics?: Partial<AnalyticsConfig>;
    auditEventTypes?: string[];
    apiKeysLimit?: number;
    maxModels?: number;
    seats?: ReaderOptions['seats'];
  } = {},
): ReaderOptions {
  return {
    apiKeysLimit: o.apiKeysLimit ?? 1000,
    workspaceIds: o.workspaceIds ?? [],
    maxWorkspaces: o.maxWorkspaces ?? 100,
    analytics: {
      windows: [window(1), window(7), window(30)],
      agentLimit: 100,
      userMetrics: false,
      userLimit: 10_000,
      userIdHashKey: undefined,
      toolLimit: 50,
      ...o.analytics,
    },
    auditEventTypes: o.auditEventTypes ?? [...DEFAULT_AUDIT_EVENT_TYPES],
    maxModels: o.maxModels ?? 500,
    seats: o.seats ?? { idleDays: 30, prices: {} },
  };
}

/**
 * A fetch context whose `get` records each query and answers with `answer`
 * (a body, or a promise of one): for checking what a reader asks, at `now`.
 * Its logger is a new capturing one unless given (making one costs more than
 * a reader's whole refresh, which counts for thousands of property runs).
 */
export function recordingContext(
  now: number,
  answer: (query: Record<string, QueryValue> | undefined) => unknown,
  logger: Logger = captureLogs().logger,
): { ctx: FetchContext; queries: Array<Record<string, QueryValue> | undefined> } {
  const queries: Array<Record<string, QueryValue> | undefined> = [];
  const ctx: FetchContext = {
    async get(query) {
      queries.push(query);
      return { body: await answer(query), status: 200, path: 'p' } satisfies ApiResponse;
    },
    signal: new AbortController().signal,
    now,
    logger,
    peers: NO_PEERS,
  };
  return { ctx, queries };
}
