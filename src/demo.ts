import { randomBytes } from 'node:crypto';
import type { Config, Organization } from './config/index.js';
import { Secret } from './secret.js';

/**
 * `--demo`: the simulated Admin API started in this process, with a key of
 * its own, and the configuration pointed at it. Without --demo the
 * configuration is returned as it is, with nothing to close.
 */
export async function withDemoApi(config: Config, seed = 1): Promise<{ config: Config; close: (() => Promise<void>) | undefined }> {
  if (!config.demo) return { config, close: undefined };
  const { startSimulator } = await import('./simulator/index.js');
  const demoKey = randomBytes(24).toString('hex');
  const odd = config.demoProfile === 'odd-shapes';
  const simulator = await startSimulator({
    apiKey: demoKey,
    seed,
    recordRequests: false,
    ...(odd ? { oddShapes: true, unloadedDays: 1 } : {}),
  });
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

/** The organizations of a config file, each pointed at a simulated organization of its own with --demo (seeds 1, 2, ...: different figures). */
export async function withDemoOrganizations(
  organizations: readonly Organization[] | undefined,
): Promise<{ list: Organization[]; close: () => Promise<void> } | undefined> {
  if (organizations === undefined) return undefined;
  const started = await Promise.all(organizations.map((org, i) => withDemoApi(org.config, i + 1)));
  return {
    list: organizations.map((org, i) => ({ name: org.name, config: (started[i] as { config: Config }).config })),
    close: async () => {
      await Promise.all(started.map((s) => s.close?.()));
    },
  };
}
