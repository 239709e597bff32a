/**
 * Seats at scale: the exporter reading GET users (every page), users-invite
 * and le Chat by_user_stats of a large simulated organization, over HTTP on
 * loopback (the simulator in a process of its own). Prints the series of
 * the two endpoints, each refresh's time (the simulator's answer time
 * included), and the exporter's own time to read the users pages (the same
 * answers served from memory).
 *
 *   npx tsx bench/seats.ts --users 50000
 *
 * Figures, not assertions: no test depends on them.
 */
import { startSimulatorProcess } from './support/processes.js';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { loadConfig } from '../src/config/index.js';
import { createExporter } from '../src/exporter.js';
import { createLogger } from '../src/logger.js';
import { NO_PEERS } from '../src/peers.js';
import { readerOptionsOf } from '../src/sources/catalog.js';
import { users } from '../src/sources/users.js';

const KEY = 'bench-key';
const { values: args } = parseArgs({ options: { users: { type: 'string', default: '50000' } } });
const USERS = Number(args.users);

async function main(): Promise<void> {
  const sim = await startSimulatorProcess(['--api-key', KEY, '--users', String(USERS)]);
  try {
    const command = loadConfig({
      argv: [],
      env: {
        MISTRAL_ADMIN_API_KEY: KEY,
        MISTRAL_ADMIN_API_URL: sim.url,
        MISTRAL_ENDPOINTS: 'lechat_by_user,users,users_invite',
        SEAT_PRICE_CHAT: '14.99 EUR',
        REQUEST_TIMEOUT: '5m',
        ANALYTICS_REFRESH_INTERVAL: '30m',
      },
    });
    if (command.kind !== 'run') throw new Error('unexpected');
    const exporter = createExporter(command.config, { logger: createLogger({ level: 'warn' }) });
    const refreshMs: Record<string, number> = {};
    for (const endpoint of ['lechat_by_user', 'users', 'users_invite'] as const) {
      const t = performance.now();
      await exporter.scheduler.refresh(endpoint);
      refreshMs[endpoint] = performance.now() - t;
    }
    const res = await exporter.app.inject({ method: 'GET', url: '/metrics' });
    const lines = res.body.split('\n').filter((l) => /^mistral_(members|seats|invites)/.test(l));

    // The exporter's own work: the same pages, served from memory.
    const pages: unknown[] = [];
    for (let page = 1; ; page++) {
      const r = await request(`${sim.url}/users?page=${page}&page_size=100`, { headers: { 'x-api-key': KEY } });
      const body = (await r.body.json()) as { members: unknown[]; invites: unknown[] };
      pages.push(body);
      if (body.members.length + body.invites.length < 100) break;
    }
    const reader = users.reader(readerOptionsOf(command.config));
    const t = performance.now();
    await reader.fetch({
      get: async (query) => ({ body: pages[Number(query?.page) - 1] ?? { members: [], invites: [] }, status: 200, path: 'users' }),
      signal: new AbortController().signal,
      now: Date.now(),
      logger: createLogger({ level: 'error' }),
      peers: NO_PEERS,
    });
    const parseMs = performance.now() - t;
    await exporter.close();

    const ms = (n: number | undefined) => `${((n ?? 0) / 1000).toFixed(1)} s`;
    process.stdout.write(
      `Seats benchmark: ${USERS} simulated users (${pages.length} pages of GET users), ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}\n` +
        `refresh lechat_by_user: ${ms(refreshMs.lechat_by_user)}; users: ${ms(refreshMs.users)}; users_invite: ${ms(refreshMs.users_invite)} (simulator time included)\n` +
        `the exporter's own reading of the ${pages.length} users pages: ${parseMs.toFixed(0)} ms\n` +
        `series of users and users_invite: ${lines.length}\n${lines.join('\n')}\n`,
    );
  } finally {
    sim.stop();
  }
}

await main();
