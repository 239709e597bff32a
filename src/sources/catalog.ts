import type { Config } from '../config/index.js';
import { auditEvents } from './audit-events.js';
import { apiKeys } from './api-keys.js';
import { lechatByAgent } from './lechat-by-agent.js';
import { lechatByTime } from './lechat-by-time.js';
import { lechatByUser } from './lechat-by-user.js';
import { rateLimit } from './rate-limit.js';
import { spendLimit } from './spend-limit.js';
import type { Endpoint, ReaderOptions, Source } from './types.js';
import { usage } from './usage.js';
import { users } from './users.js';
import { usersInvite } from './users-invite.js';
import { vibeByOrganization } from './vibe-by-organization.js';
import { vibeByWorkspace } from './vibe-by-workspace.js';
import { workspaces } from './workspaces.js';

/**
 * Every Admin API endpoint the exporter reads, in the order its series
 * appear on /metrics. This list is the one place an endpoint is wired:
 * its id type, `MISTRAL_ENDPOINTS`, its interval setting, its paths, the
 * docs' tables and the chart's values all come from it. An endpoint module
 * left out of it fails test/catalog.test.ts.
 */
export const CATALOG = [
  spendLimit,
  usage,
  rateLimit,
  workspaces,
  apiKeys,
  lechatByUser,
  lechatByAgent,
  lechatByTime,
  // After lechat_by_user, whose activity the idle seats follow.
  users,
  usersInvite,
  vibeByWorkspace,
  vibeByOrganization,
  auditEvents,
] as const;

export type ApiEndpoint = (typeof CATALOG)[number]['id'];

export const API_ENDPOINTS: readonly ApiEndpoint[] = CATALOG.map((e) => e.id);

/** The declaration of one endpoint. */
export function endpointOf(id: ApiEndpoint): Endpoint<ApiEndpoint> {
  const endpoint = CATALOG.find((e) => e.id === id);
  if (!endpoint) throw new Error(`no endpoint ${id} in the catalog`);
  return endpoint as Endpoint<ApiEndpoint>;
}

/** What the readers are told of the configuration: one place for the exporter and `check` alike. */
export function readerOptionsOf(config: Config): ReaderOptions {
  return {
    workspaceIds: config.workspaceIds,
    maxWorkspaces: config.maxWorkspaces,
    analytics: config.analytics,
    assumedServiceTier: config.usageAssumedServiceTier,
    auditEventTypes: config.auditEventTypes,
    apiKeysLimit: config.apiKeysLimit,
    maxModels: config.maxModels,
    seats: config.seats,
  };
}

/** The sources of `endpoints`, in the catalog's order, each bound to its endpoint. */
export function createSources(endpoints: readonly ApiEndpoint[], options: ReaderOptions): Source[] {
  return CATALOG.filter((e) => endpoints.includes(e.id)).map((e) => {
    const reader = (e as Endpoint<ApiEndpoint>).reader(options);
    return { ...reader, endpoint: e.id, describe: e.describe };
  });
}
