import type { AnalyticsConfig } from '../config/index.js';
import type { ApiEndpoint } from '../endpoints.js';
import { lechatByAgentSource, lechatByTimeSource, lechatByUserSource } from './lechat.js';
import { rateLimitSource } from './rate-limit.js';
import { spendLimitSource } from './spend-limit.js';
import type { Source } from './types.js';
import { usageSource } from './usage.js';
import { vibeByOrganizationSource, vibeByWorkspaceSource } from './vibe.js';

export interface SourceOptions {
  endpoints: readonly ApiEndpoint[];
  workspaceIds: readonly string[];
  analytics: AnalyticsConfig;
}

/** The sources of the endpoints to read, in the order their metrics appear. */
export function allSources(options: SourceOptions): Source[] {
  const { windows } = options.analytics;
  const make: Record<ApiEndpoint, () => Source> = {
    spend_limit: () => spendLimitSource() as Source,
    usage: () => usageSource({ workspaceIds: options.workspaceIds }) as Source,
    rate_limit: () => rateLimitSource() as Source,
    lechat_by_user: () =>
      lechatByUserSource({
        windows,
        userMetrics: options.analytics.userMetrics,
        userLimit: options.analytics.userLimit,
        userIdHashKey: options.analytics.userIdHashKey,
      }) as Source,
    lechat_by_agent: () => lechatByAgentSource({ windows, agentLimit: options.analytics.agentLimit }) as Source,
    lechat_by_time: () => lechatByTimeSource() as Source,
    vibe_by_workspace: () =>
      vibeByWorkspaceSource({ windows, workspaceIds: options.workspaceIds, toolLimit: options.analytics.toolLimit }) as Source,
    vibe_by_organization: () => vibeByOrganizationSource({ windows }) as Source,
  };
  const order: ApiEndpoint[] = ['spend_limit', 'usage', 'rate_limit', 'lechat_by_user', 'lechat_by_agent', 'lechat_by_time', 'vibe_by_workspace', 'vibe_by_organization'];
  return order.filter((e) => options.endpoints.includes(e)).map((e) => make[e]());
}
