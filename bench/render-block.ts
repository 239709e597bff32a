/**
 * What rendering one refresh costs the exporter's event loop: the families of
 * every endpoint are read once from the simulator (in a process of its own),
 * then each is rendered as the scheduler does after a fetch, while
 * monitorEventLoopDelay watches the loop and a 1 ms timer counts how long it
 * was kept from running. The parse of the answers and `toFamilies` are not
 * part of it (figures of their own below).
 *
 *   npx tsx bench/render-block.ts --users 10000 [--rounds 5]
 *
 * Figures, not assertions: no test depends on them. The machine may be
 * shared: compare runs made one after the other, not across machines.
 */
import { fetchOnce, simulatedOrg } from './support/simulated-org.js';
import { startTicker } from './support/ticker.js';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { renderChunk } from '../src/exposition.js';
import { createSources, readerOptionsOf } from '../src/sources/catalog.js';
import type { MetricFamily } from '../src/sources/types.js';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '5' },
    /** Render every format and compression too, as when both formats are scraped with and without gzip. */
    all: { type: 'boolean', default: false },
  },
});
const USERS = Number(args.users);
const ROUNDS = Number(args.rounds);

async function main(): Promise<void> {
  const sim = await simulatedOrg(USERS);
  const { config } = sim;
  const sources = createSources(config.endpoints, readerOptionsOf(config));
  const all: MetricFamily[] = [];
  let toFamiliesMs = 0;
  for (const source of sources) {
    const snapshot = await fetchOnce(sim, source);
    const t = performance.now();
    all.push(...source.toFamilies(snapshot));
    toFamiliesMs = Math.max(toFamiliesMs, performance.now() - t);
  }
  sim.stop();
  const series = all.reduce((n, f) => n + f.samples.length, 0);

  const rows: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const loop = monitorEventLoopDelay({ resolution: 1 });
    // The longest 1 ms timer gap, and the most CPU the process used between two ticks: a gap with little CPU was the
    // machine running others, not a block (bench/support/ticker.ts).
    const ticker = startTicker();
    await new Promise((resolve) => setTimeout(resolve, 20));
    ticker.reset();
    loop.enable();
    const cpu = process.cpuUsage();
    const t = performance.now();
    const chunk = await renderChunk(all);
    if (args.all) await warmAll(chunk);
    const wall = performance.now() - t;
    const used = process.cpuUsage(cpu);
    loop.disable();
    const { longestGap, mostCpu } = ticker.read();
    ticker.stop();
    rows.push(
      `| ${round + 1} | ${wall.toFixed(1)} | ${((used.user + used.system) / 1000).toFixed(1)} | ${(loop.max / 1e6).toFixed(1)} | ${longestGap.toFixed(1)} | ${mostCpu.toFixed(1)} |`,
    );
  }
  process.stdout.write(
    `Rendering one refresh of every endpoint at ${USERS} users (${series} series${args.all ? ', every format and compression' : ''}); toFamilies of the largest endpoint: ${toFamiliesMs.toFixed(1)} ms (not included)\n\n` +
      '| round | wall ms | CPU ms (main thread + zlib threads) | longest event-loop delay ms | longest 1 ms timer gap ms | most process CPU ms between two ticks |\n| --- | --- | --- | --- | --- | --- |\n' +
      `${rows.join('\n')}\n`,
  );
}

/** Every variant of a chunk, where the chunk renders them on demand. */
async function warmAll(chunk: unknown): Promise<void> {
  const c = chunk as { make?: (variant: string) => Promise<void> };
  if (typeof c.make !== 'function') return;
  await Promise.all(['openmetrics', 'text', 'openmetrics+gzip', 'text+gzip'].map((v) => c.make?.(v)));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
