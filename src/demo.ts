import { randomBytes } from 'node:crypto';
import type { Config } from './config/index.js';
import { Secret } from './secret.js';

/**
 * `--demo`: the simulated Admin API started in this process, with a key of
 * its own, and the configuration pointed at it. Without --demo the
 * configuration is returned as it is, with nothing to close.
 */
export async function withDemoApi(config: Config): Promise<{ config: Config; close: (() => Promise<void>) | undefined }> {
  if (!config.demo) return { config, close: undefined };
  const { startSimulator } = await import('./simulator/index.js');
  const demoKey = randomBytes(24).toString('hex');
  const odd = config.demoProfile === 'odd-shapes';
  const simulator = await startSimulator({ apiKey: demoKey, recordRequests: false, ...(odd ? { oddShapes: true, unloadedDays: 1 } : {}) });
  // Its usage entries that name no service tier are billed at standard, which the setting says unless set otherwise.
  return {
    config: {
      ...config,
      apiUrl: simulator.url,
      apiKey: new Secret(demoKey),
      pathLayout: 'auto',
      // The odd-shapes profile shows what an unknown tier does: entries counted as ambiguous, their cost left out.
      usageAssumedServiceTier: config.usageAssumedServiceTier ?? (odd ? undefined : 'standard'),
    },
    close: () => simulator.close(),
  };
}
