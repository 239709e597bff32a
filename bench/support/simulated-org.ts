/**
 * A simulated organization of `users` members in a process of its own, and
 * the exporter's configuration (and client) for it, per-user series on: the
 * set-up of the benchmarks that read it endpoint by endpoint or serve it.
 */
import { systemClock } from '../../src/clock.js';
import { type Config, loadConfig } from '../../src/config/index.js';
import type { AdminApiClient } from '../../src/admin-api/client.js';
import { createApiClient } from '../../src/exporter.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { NO_PEERS } from '../../src/peers.js';
import { Secret } from '../../src/secret.js';
import type { Source } from '../../src/sources/types.js';
import { startSimulatorProcess } from './processes.js';

const KEY = 'bench-key';

export interface SimulatedOrg {
  config: Config;
  logger: Logger;
  client: AdminApiClient;
  stop(): void;
}

/** The simulated organization and the exporter's configuration for it (the key given as the file would give it); `env` adds or overrides settings. */
export async function simulatedConfig(users: number, env: Record<string, string> = {}): Promise<{ config: Config; stop(): void }> {
  const sim = await startSimulatorProcess(['--api-key', KEY, '--users', String(users)]);
  const command = loadConfig({
    argv: [],
    env: {
      MISTRAL_ADMIN_API_KEY: KEY,
      MISTRAL_ADMIN_API_URL: sim.url,
      LOG_LEVEL: 'error',
      LECHAT_USER_METRICS: 'true',
      LECHAT_USER_LIMIT: String(Math.max(users, 1)),
      ...env,
    },
  });
  if (command.kind !== 'run') throw new Error('unexpected command');
  return { config: { ...command.config, apiKey: new Secret(KEY) }, stop: sim.stop };
}

export async function simulatedOrg(users: number, env: Record<string, string> = {}): Promise<SimulatedOrg> {
  const { config, stop } = await simulatedConfig(users, env);
  const logger = createLogger({ level: 'error' });
  const client = createApiClient(config, { logger, clock: systemClock, observer: { request() {}, retry() {}, pathInUse() {} } });
  return { config, logger, client, stop };
}

/** One fetch of `source` from the organization, as a refresh would make it (no peers, the wall clock's now). */
export function fetchOnce<S>(org: SimulatedOrg, source: Source<S>): Promise<S> {
  const signal = new AbortController().signal;
  return source.fetch({
    get: (query) => org.client.get(source.endpoint, { query, signal }),
    signal,
    now: Date.now(),
    logger: org.logger,
    peers: NO_PEERS,
  });
}
