/**
 * The Admin API endpoints the exporter reads, and where each one lives.
 *
 * Mistral's own sources disagree on the analytics paths; three layouts are
 * known (shared reference, admin-api/README.md). In `auto` the client tries
 * them in this order on a 404 and keeps the first that answers.
 */
export const API_ENDPOINTS = [
  'usage',
  'spend_limit',
  'rate_limit',
  'lechat_by_user',
  'lechat_by_agent',
  'lechat_by_time',
  'vibe_by_workspace',
  'vibe_by_organization',
] as const;

export type ApiEndpoint = (typeof API_ENDPOINTS)[number];

export const PATH_LAYOUTS = ['brief', 'legacy', 'current'] as const;
export type PathLayout = (typeof PATH_LAYOUTS)[number];

/** What each layout is, for --help and the README. */
export const PATH_LAYOUT_DESCRIPTIONS: Record<PathLayout, string> = {
  brief: 'the usage-metrics doc page: analytics/lechat/usage/..., analytics/vibe/usage/...',
  legacy: 'the OpenAPI spec up to 2026-07: analytics/vibe/usage/... for le Chat and Vibe Code',
  current: 'the OpenAPI spec from 2026-07-24: analytics/vibe/work/usage/..., analytics/vibe/code/usage/...',
};

const PATHS: Record<ApiEndpoint, Record<PathLayout, string>> = {
  usage: { brief: 'usage', legacy: 'usage', current: 'usage' },
  spend_limit: { brief: 'spend-limit', legacy: 'spend-limit', current: 'spend-limit' },
  rate_limit: { brief: 'rate-limit', legacy: 'rate-limit', current: 'rate-limit' },
  lechat_by_user: {
    brief: 'analytics/lechat/usage/by_user_stats',
    legacy: 'analytics/vibe/usage/by_user_stats',
    current: 'analytics/vibe/work/usage/by_user_stats',
  },
  lechat_by_agent: {
    brief: 'analytics/lechat/usage/by_agent_stats',
    legacy: 'analytics/vibe/usage/by_agent_stats',
    current: 'analytics/vibe/work/usage/by_agent_stats',
  },
  lechat_by_time: {
    brief: 'analytics/lechat/usage/by_time_stats',
    legacy: 'analytics/vibe/usage/by_time_stats',
    current: 'analytics/vibe/work/usage/by_time_stats',
  },
  vibe_by_workspace: {
    brief: 'analytics/vibe/usage/by_workspace',
    legacy: 'analytics/vibe/usage/by_workspace',
    current: 'analytics/vibe/code/usage/by_workspace',
  },
  vibe_by_organization: {
    brief: 'analytics/vibe/usage/by_organization',
    legacy: 'analytics/vibe/usage/by_organization',
    current: 'analytics/vibe/code/usage/by_organization',
  },
};

/**
 * The distinct paths to try for `endpoint`, most likely first. With a pinned
 * layout there is exactly one.
 */
export function pathCandidates(endpoint: ApiEndpoint, layout: PathLayout | 'auto'): string[] {
  const byLayout = PATHS[endpoint];
  if (layout !== 'auto') return [byLayout[layout]];
  return [...new Set(PATH_LAYOUTS.map((l) => byLayout[l]))];
}
