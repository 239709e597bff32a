/** Which path (relative to the base path) answers as which endpoint, per API layout. */

export type SimEndpoint =
  | 'usage'
  | 'spend_limit'
  | 'rate_limit'
  | 'lechat_by_user'
  | 'lechat_by_agent'
  | 'lechat_by_time'
  | 'vibe_by_workspace'
  | 'vibe_by_organization'
  | 'workspaces'
  | 'api_keys'
  | 'users'
  | 'users_invite'
  | 'audit_events';

/** brief: the usage-metrics doc page; legacy: the spec up to 2026-07; current: the spec from 2026-07-24. */
export type Layout = 'brief' | 'legacy' | 'current';

export const ALL_LAYOUTS: readonly Layout[] = ['brief', 'legacy', 'current'];

const BILLING_PATHS: Readonly<Record<string, SimEndpoint>> = {
  usage: 'usage',
  'spend-limit': 'spend_limit',
  'rate-limit': 'rate_limit',
  workspaces: 'workspaces',
  'audit-logs': 'audit_events',
  'api-keys': 'api_keys',
  users: 'users',
  'users-invite': 'users_invite',
};

export const ANALYTICS_PATHS: Readonly<Record<Layout, Readonly<Record<string, SimEndpoint>>>> = {
  brief: {
    'analytics/lechat/usage/by_user_stats': 'lechat_by_user',
    'analytics/lechat/usage/by_agent_stats': 'lechat_by_agent',
    'analytics/lechat/usage/by_time_stats': 'lechat_by_time',
    'analytics/vibe/usage/by_workspace': 'vibe_by_workspace',
    'analytics/vibe/usage/by_organization': 'vibe_by_organization',
  },
  legacy: {
    'analytics/vibe/usage/by_user_stats': 'lechat_by_user',
    'analytics/vibe/usage/by_agent_stats': 'lechat_by_agent',
    'analytics/vibe/usage/by_time_stats': 'lechat_by_time',
    'analytics/vibe/usage/by_workspace': 'vibe_by_workspace',
    'analytics/vibe/usage/by_organization': 'vibe_by_organization',
  },
  current: {
    'analytics/vibe/work/usage/by_user_stats': 'lechat_by_user',
    'analytics/vibe/work/usage/by_agent_stats': 'lechat_by_agent',
    'analytics/vibe/work/usage/by_time_stats': 'lechat_by_time',
    'analytics/vibe/code/usage/by_workspace': 'vibe_by_workspace',
    'analytics/vibe/code/usage/by_organization': 'vibe_by_organization',
  },
};

/** Relative path → endpoint, for the billing paths and the chosen analytics layouts. */
export function routeTable(layouts: readonly Layout[]): ReadonlyMap<string, SimEndpoint> {
  const table = new Map<string, SimEndpoint>(Object.entries(BILLING_PATHS));
  for (const layout of layouts) for (const [path, endpoint] of Object.entries(ANALYTICS_PATHS[layout])) table.set(path, endpoint);
  return table;
}

/** "/api/admin/" → "/api/admin"; "" and "/" → "". */
export function normaliseBasePath(basePath: string): string {
  const trimmed = basePath.replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}
