#!/usr/bin/env node
/**
 * Runs the simulated Admin API by hand:
 *   node dist/simulator/cli.js --port 9999 --seed 1 [--host 127.0.0.1] [--base-path /api/admin]
 *        [--api-key KEY] [--users 2000] [--agents 40] [--workspaces 3] [--api-keys 40] [--layouts brief,legacy,current]
 *        [--spend-limit 5000|none] [--unloaded-days 0] [--odd-shapes] [--ignore-zone-filter]
 */
import { parseArgs } from 'node:util';
import { startSimulator, type Layout, type SimulatorOptions } from './index.js';

const LAYOUTS: readonly Layout[] = ['brief', 'legacy', 'current'];

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) throw new Error(`--${name} must be an integer, got ${JSON.stringify(value)}`);
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '9999' },
      host: { type: 'string' },
      seed: { type: 'string' },
      'base-path': { type: 'string' },
      'api-key': { type: 'string' },
      users: { type: 'string' },
      agents: { type: 'string' },
      workspaces: { type: 'string' },
      'api-keys': { type: 'string' },
      layouts: { type: 'string' },
      'spend-limit': { type: 'string' },
      'odd-shapes': { type: 'boolean' },
      'ignore-zone-filter': { type: 'boolean' },
      'unloaded-days': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: node dist/simulator/cli.js [--port 9999] [--seed 1] [--host H] [--base-path P] [--api-key K] [--users N] [--agents N] [--workspaces N] [--api-keys N] [--layouts brief,legacy,current] [--spend-limit EUR|none] [--unloaded-days N: the last N complete UTC days not loaded into analytics yet] [--odd-shapes] [--ignore-zone-filter]\n',
    );
    return;
  }
  const layouts = values.layouts?.split(',').map((l) => l.trim());
  const unknownLayout = layouts?.find((l) => !LAYOUTS.includes(l as Layout));
  if (unknownLayout !== undefined) throw new Error(`unknown layout ${JSON.stringify(unknownLayout)} (known: ${LAYOUTS.join(', ')})`);
  const spendLimit = values['spend-limit'] === 'none' ? null : integer(values['spend-limit'], 'spend-limit');
  const org: NonNullable<SimulatorOptions['org']> = {};
  const users = integer(values.users, 'users');
  const agents = integer(values.agents, 'agents');
  const workspaces = integer(values.workspaces, 'workspaces');
  if (users !== undefined) org.users = users;
  if (agents !== undefined) org.agents = agents;
  if (workspaces !== undefined) org.workspaces = workspaces;
  const apiKeys = integer(values['api-keys'], 'api-keys');
  if (apiKeys !== undefined) org.apiKeys = apiKeys;
  if (spendLimit !== undefined) org.spendLimit = spendLimit;
  const options: SimulatorOptions = { port: integer(values.port, 'port') ?? 9999, org, recordRequests: false };
  if (values.host !== undefined) options.host = values.host;
  const seed = integer(values.seed, 'seed');
  if (seed !== undefined) options.seed = seed;
  if (values['base-path'] !== undefined) options.basePath = values['base-path'];
  if (values['api-key'] !== undefined) options.apiKey = values['api-key'];
  if (layouts) options.layouts = layouts as Layout[];
  const unloadedDays = integer(values['unloaded-days'], 'unloaded-days');
  if (unloadedDays !== undefined) options.unloadedDays = unloadedDays;
  if (values['odd-shapes']) options.oddShapes = true;
  if (values['ignore-zone-filter']) options.ignoreZoneFilter = true;

  const simulator = await startSimulator(options);
  process.stdout.write(`Mistral Admin API simulator listening on ${simulator.url}\n`);
  process.stdout.write(`workspaces: ${simulator.truth.workspaceIds.join(', ')}\n`);
  const stop = () => {
    void simulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
