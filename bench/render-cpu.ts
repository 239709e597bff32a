/**
 * The renderer's CPU on families shaped like le Chat's per-user series (labels shared by the three per-user
 * families, as `toFamilies` makes them), without the simulator: quick to compare two versions of src/render/.
 *
 *   npx tsx bench/render-cpu.ts [--users 12600] [--rounds 7]
 *
 * Prints the minimum CPU time of the rounds (main thread and zlib's threads) for the plain OpenMetrics body
 * and for the form Prometheus scrapes (gzip).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { renderChunk } from '../src/exposition.js';
import type { MetricFamily } from '../src/sources/types.js';

const { values: args } = parseArgs({ options: { users: { type: 'string', default: '12600' }, rounds: { type: 'string', default: '7' } } });
const USERS = Number(args.users);
const ROUNDS = Number(args.rounds);

function families(): MetricFamily[] {
  const names = ['messages', 'conversations', 'messages_to_agents'];
  const out: MetricFamily[] = names.map((n) => ({
    name: `mistral_lechat_user_${n}`,
    help: `le Chat per-user ${n}. Refreshed in the background on an interval, not at scrape time.`,
    labelNames: ['user_id', 'window'],
    samples: [],
  }));
  const ids = Array.from({ length: USERS }, () => randomUUID());
  for (const window of ['1d', '7d', '30d']) {
    for (const user_id of ids) {
      const labels = { user_id, window };
      for (const f of out) f.samples.push({ labels, value: Math.floor(Math.random() * 300) });
    }
  }
  return out;
}

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

async function main(): Promise<void> {
  const all = families();
  let plain = Number.POSITIVE_INFINITY;
  let gzip = Number.POSITIVE_INFINITY;
  let bytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let c = cpuMs();
    const chunk = await renderChunk(all, undefined);
    gzip = Math.min(gzip, cpuMs() - c);
    c = cpuMs();
    const open = await renderChunk(all);
    await open.make('openmetrics');
    plain = Math.min(plain, cpuMs() - c);
    bytes = chunk.deflated('openmetrics')?.length ?? 0;
  }
  const series = all.reduce((n, f) => n + f.samples.length, 0);
  process.stdout.write(
    `${series} series: rendered and gzipped (what Prometheus scrapes) ${gzip.toFixed(1)} ms CPU, ${bytes} bytes plain; with the plain form kept as well ${plain.toFixed(1)} ms (minimum of ${ROUNDS})\n`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
