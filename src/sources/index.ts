import type { Source } from './types.js';
import { rateLimitSource } from './rate-limit.js';
import { spendLimitSource } from './spend-limit.js';
import { usageSource } from './usage.js';

export interface SourceOptions {
  workspaceIds: readonly string[];
}

/** Every source the exporter refreshes, in the order their metrics appear. */
export function allSources(options: SourceOptions): Source[] {
  return [spendLimitSource(), usageSource({ workspaceIds: options.workspaceIds }), rateLimitSource()] as Source[];
}
