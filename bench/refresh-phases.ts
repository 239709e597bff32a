/**
 * Where a refresh's time goes, endpoint by endpoint: the fetch (HTTP, scrub and JSON.parse of the answers,
 * the reader's parse), `toFamilies`, and rendering (in the forms Prometheus scrapes), each as CPU time of this
 * process (zlib's threads included in the render) and as the longest single JSON.parse. The simulator runs in a
 * process of its own.
 *
 *   npx tsx bench/refresh-phases.ts --users 12600 [--rounds 3]
 *
 * Figures, not assertions. Minimum over the rounds (the machine may be shared).
 * A block is the longest time between two ticks of a 1 ms timer, counted as the process's CPU time between them when that
 * is less (time spent waiting for a core is not a block of ours).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { renderChunk } from '../src/exposition.js';
import { createSources, readerOptionsOf } from '../src/sources/catalog.js';
import { fetchOnce, simulatedOrg } from './support/simulated-org.js';
import { cpuMs, startTicker } from './support/ticker.js';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '12600' },
    rounds: { type: 'string', default: '3' },
    /** Only these endpoints (comma-separated ids), e.g. to profile one with --cpu-prof. */
    only: { type: 'string' },
  },
});
const USERS = Number(args.users);
const ROUNDS = Number(args.rounds);

let longestParse = 0;
let parseTotal = 0;
const parse = JSON.parse;
JSON.parse = ((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
  const t = performance.now();
  const out = parse(text, reviver);
  const d = performance.now() - t;
  longestParse = Math.max(longestParse, d);
  parseTotal += d;
  return out;
}) as typeof JSON.parse;

async function main(): Promise<void> {
  const sim = await simulatedOrg(USERS);
  const { config } = sim;
  const only = args.only?.split(',');
  const sources = createSources(config.endpoints, readerOptionsOf(config)).filter((s) => only === undefined || only.includes(s.endpoint));
  type Row = {
    fetch: number;
    parse: number;
    longestParse: number;
    toFamilies: number;
    render: number;
    series: number;
    fetchGap: number;
    toFamiliesGap: number;
    renderGap: number;
  };
  // How long the event loop was held in each phase (bench/support/ticker.ts): on a shared machine a gap may be time spent
  // waiting for a core, so each gap counts as the process's CPU time in it when that is less (zlib's threads included).
  const ticker = startTicker();
  const best = new Map<string, Row>();
  const previous = new Map<string, Awaited<ReturnType<typeof renderChunk>>>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const source of sources) {
      longestParse = 0;
      parseTotal = 0;
      let c = cpuMs();
      ticker.reset();
      const snapshot = await fetchOnce(sim, source);
      const fetch = cpuMs() - c;
      const fetchGap = ticker.read().longestBlock;
      c = cpuMs();
      ticker.reset();
      // As the scheduler does: in slices where the reader has them.
      const families = await (source.toFamiliesSliced?.(snapshot) ?? source.toFamilies(snapshot));
      const toFamilies = cpuMs() - c;
      const toFamiliesGap = ticker.read().longestBlock;
      c = cpuMs();
      ticker.reset();
      const chunk = await renderChunk(families, previous.get(source.endpoint));
      const render = cpuMs() - c;
      await new Promise((resolve) => setTimeout(resolve, 3));
      const renderGap = ticker.read().longestBlock;
      previous.set(source.endpoint, chunk);
      if (process.env.DUMP_BODY && chunk.series > 10_000) {
        const { writeFileSync } = await import('node:fs');
        const { renderFamilies } = await import('../src/exposition.js');
        writeFileSync(process.env.DUMP_BODY, await renderFamilies(families, 'openmetrics'));
      }
      const row = { fetch, parse: parseTotal, longestParse, toFamilies, render, series: chunk.series, fetchGap, toFamiliesGap, renderGap };
      const old = best.get(source.endpoint);
      best.set(
        source.endpoint,
        old === undefined
          ? row
          : {
              fetch: Math.min(old.fetch, row.fetch),
              parse: Math.min(old.parse, row.parse),
              longestParse: Math.min(old.longestParse, row.longestParse),
              toFamilies: Math.min(old.toFamilies, row.toFamilies),
              render: Math.min(old.render, row.render),
              fetchGap: Math.min(old.fetchGap, row.fetchGap),
              toFamiliesGap: Math.min(old.toFamiliesGap, row.toFamiliesGap),
              renderGap: Math.min(old.renderGap, row.renderGap),
              series: row.series,
            },
      );
    }
  }
  ticker.stop();
  sim.stop();
  const rows = [...best].sort((a, b) => b[1].series - a[1].series);
  const sum = (k: keyof Row) => rows.reduce((n, [, r]) => n + r[k], 0);
  const f = (n: number) => n.toFixed(1);
  process.stdout.write(
    `At ${USERS} users, ${sum('series')} series; CPU ms, minimum of ${ROUNDS} rounds\n\n| endpoint | series | fetch (all) | of which JSON.parse (wall) | longest JSON.parse | longest block in fetch | toFamilies | longest block in toFamilies | render | longest block in render |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n` +
      rows
        .filter(([, r]) => r.fetch + r.toFamilies + r.render > 1)
        .map(
          ([e, r]) =>
            `| ${e} | ${r.series} | ${f(r.fetch)} | ${f(r.parse)} | ${f(r.longestParse)} | ${f(r.fetchGap)} | ${f(r.toFamilies)} | ${f(r.toFamiliesGap)} | ${f(r.render)} | ${f(r.renderGap)} |`,
        )
        .join('\n') +
      `\n| total | ${sum('series')} | ${f(sum('fetch'))} | ${f(sum('parse'))} | | | ${f(sum('toFamilies'))} | | ${f(sum('render'))} | |\n`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
