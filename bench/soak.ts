/**
 * Soak benchmark: does the exporter's memory stay flat and its series count
 * bounded over many refreshes while what it reads keeps changing?
 *
 * The exporter (in-process, `createExporter`) reads the simulator over HTTP
 * on loopback, through a front that makes models, users, agents, workspaces
 * and API keys come and go (bench/churn-front.ts), on a manual clock: one
 * cycle is one minute of simulated time (REFRESH_INTERVAL 1m; the analytics
 * endpoints, at 10m, every tenth cycle), then one scrape of /metrics over
 * HTTP. 10 000 cycles are about a week, across a month's end, in minutes.
 *
 *   npm run bench:soak                                    # 10 000 cycles
 *   npm run bench:soak -- --cycles 2000 --sample-every 50 # a shorter run
 *
 * Every --sample-every cycles, after a forced GC: RSS, heap used, the series
 * on /metrics, the event loop's delay (max and p99 over the cycles since the
 * last sample) and the CPU time of the refreshes (per cycle). The simulators
 * and the front run in this process: their memory and CPU count in the
 * figures (constant for the simulators: their organizations are fixed).
 * Written to bench/results/soak-<cycles>.{json,md}. Figures, not assertions.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import type { Clock, TimerHandle } from '../src/clock.js';
import { loadConfig } from '../src/config/index.js';
import { createExporter } from '../src/exporter.js';
import { createLogger } from '../src/logger.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { startChurnFront } from './churn-front.js';

const { values: args } = parseArgs({
  options: {
    cycles: { type: 'string', default: '10000' },
    'sample-every': { type: 'string', default: '100' },
    'churn-every': { type: 'string', default: '30' },
    users: { type: 'string', default: '200' },
  },
});
const CYCLES = Number(args.cycles);
const SAMPLE_EVERY = Number(args['sample-every']);
const CHURN_EVERY = Number(args['churn-every']);
const USERS = Number(args.users);
const CYCLE_MS = 60_000;
const KEY = 'soak-key';
/** Five days before a month's end, so that a long run crosses it. */
const START = Date.UTC(2026, 10, 26, 0, 0, 0);

/** A clock that moves only when told; the soak fires no timer it does not clear (refresh deadlines). */
class SoakClock implements Clock {
  private nextId = 1;
  readonly timers = new Map<number, () => void>();
  constructor(public current: number) {}
  now = (): number => this.current;
  setTimeout(fn: () => void): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, fn);
    return { id };
  }
  clearTimeout(handle: TimerHandle): void {
    this.timers.delete((handle as { id: number }).id);
  }
}

interface Sample {
  cycle: number;
  simulatedDay: string;
  rssMiB: number;
  heapUsedMiB: number;
  series: number;
  eventLoopMaxMs: number;
  eventLoopP99Ms: number;
  refreshCpuMsPerCycle: number;
  wallSeconds: number;
}

const mib = (n: number) => Math.round((n / 1024 ** 2) * 10) / 10;
const gc = (globalThis as { gc?: () => void }).gc;

/** Least-squares slope of y over x. */
function slope(points: ReadonlyArray<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const num = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  if (gc === undefined) console.error('soak: run with node --expose-gc (npm run bench:soak does) for heap figures after a GC');
  const clock = new SoakClock(START);
  // Organizations of other seeds and sizes, taken in turn from one generation to the next.
  const sizes = [
    { seed: 1, users: USERS, agents: 40, workspaces: 3 },
    { seed: 2, users: Math.round(USERS * 1.5), agents: 60, workspaces: 5 },
    { seed: 3, users: Math.round(USERS * 0.5), agents: 20, workspaces: 2 },
  ];
  const sims: Simulator[] = [];
  for (const { seed, ...org } of sizes) sims.push(await startSimulator({ now: clock.now, seed, apiKey: KEY, org }));
  let cycle = 0;
  const front = await startChurnFront(sims, () => Math.floor(cycle / CHURN_EVERY));

  const command = loadConfig({
    argv: [],
    env: {
      MISTRAL_ADMIN_API_KEY: KEY,
      MISTRAL_ADMIN_API_URL: front.url,
      REFRESH_INTERVAL: '1m',
      ANALYTICS_REFRESH_INTERVAL: '10m',
      LECHAT_USER_METRICS: 'true',
      LOG_LEVEL: 'warn',
    },
  });
  if (command.kind !== 'run') throw new Error('unexpected command');
  const logger = createLogger({ level: 'error' });
  const exporter = createExporter(command.config, {
    logger,
    clock,
    random: () => 0.5,
    retry: { maxRetries: 0, baseDelayMs: 1000, maxDelayMs: 1000, maxRetryAfterMs: 1000 },
  });
  await exporter.app.listen({ host: '127.0.0.1', port: 0 });
  const metricsUrl = `${exporter.app.listeningOrigin}/metrics`;
  const intervals = command.config.refreshIntervalsMs;
  const endpoints = exporter.scheduler.statuses().map((s) => s.endpoint);

  const samples: Sample[] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let cpuMicros = 0;
  let failures = 0;
  const started = performance.now();
  let series = 0;

  for (cycle = 0; cycle < CYCLES; cycle++) {
    clock.current = START + cycle * CYCLE_MS;
    const due = endpoints.filter((e) => (cycle * CYCLE_MS) % intervals[e] === 0);
    const cpu = process.cpuUsage();
    await Promise.all(due.map((e) => exporter.scheduler.refresh(e)));
    const used = process.cpuUsage(cpu);
    cpuMicros += used.user + used.system;
    // The simulators record every request they receive (for tests): let go of them, or they would be the leak measured.
    for (const sim of sims) sim.requests.length = 0;
    const res = await request(metricsUrl);
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`);

    if ((cycle + 1) % SAMPLE_EVERY === 0 || cycle === 0) {
      series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
      failures = exporter.scheduler.statuses().filter((s) => !s.up).length;
      gc?.();
      const mem = process.memoryUsage();
      const sinceLast = cycle === 0 ? 1 : SAMPLE_EVERY;
      const sample: Sample = {
        cycle: cycle + 1,
        simulatedDay: new Date(clock.current).toISOString().slice(0, 16),
        rssMiB: mib(mem.rss),
        heapUsedMiB: mib(mem.heapUsed),
        series,
        eventLoopMaxMs: Math.round(loop.max / 1e4) / 100,
        eventLoopP99Ms: Math.round(loop.percentile(99) / 1e4) / 100,
        refreshCpuMsPerCycle: Math.round(cpuMicros / sinceLast / 10) / 100,
        wallSeconds: Math.round((performance.now() - started) / 100) / 10,
      };
      samples.push(sample);
      loop.reset();
      cpuMicros = 0;
      const eta = ((performance.now() - started) / (cycle + 1)) * (CYCLES - cycle - 1);
      process.stderr.write(
        `soak ${String(cycle + 1).padStart(String(CYCLES).length)}/${CYCLES}  ${sample.simulatedDay}  rss ${sample.rssMiB} MiB  heap ${sample.heapUsedMiB} MiB  series ${series}  loop max ${sample.eventLoopMaxMs} ms  cpu ${sample.refreshCpuMsPerCycle} ms/cycle  endpoints down ${failures}  timers ${clock.timers.size}  eta ${Math.round(eta / 1000)}s\n`,
      );
    }
  }
  loop.disable();

  await exporter.app.close();
  await exporter.close();
  await front.close();
  for (const sim of sims) await sim.close();

  const first = samples[0] as Sample;
  const last = samples[samples.length - 1] as Sample;
  const peak = (k: keyof Sample) => Math.max(...samples.map((s) => s[k] as number));
  const secondHalf = samples.filter((s) => s.cycle > CYCLES / 2);
  const per1000 = (k: keyof Sample, from: Sample[]) => Math.round(slope(from.map((s) => [s.cycle, s[k] as number])) * 1000 * 100) / 100;
  const figures = ['rssMiB', 'heapUsedMiB', 'series', 'eventLoopMaxMs', 'eventLoopP99Ms', 'refreshCpuMsPerCycle'] as const;
  const summary = Object.fromEntries(
    figures.map((k) => [
      k,
      {
        first: first[k],
        last: last[k],
        peak: peak(k),
        slopePer1000Cycles: per1000(k, samples),
        slopePer1000CyclesSecondHalf: per1000(k, secondHalf),
      },
    ]),
  );
  const run = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
    node: process.version,
    command: `npm run bench:soak -- ${process.argv.slice(2).join(' ')}`.trim(),
    cycles: CYCLES,
    sampleEvery: SAMPLE_EVERY,
    churnEvery: CHURN_EVERY,
    users: USERS,
    simulated: `${new Date(START).toISOString()} to ${new Date(START + (CYCLES - 1) * CYCLE_MS).toISOString()}`,
    wallSeconds: last.wallSeconds,
    endpointsDownAtEnd: failures,
    summary,
    samples,
  };

  const name = `soak-${CYCLES}`;
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL(`${name}.json`, dir), `${JSON.stringify(run, null, 2)}\n`);
  const row = (s: Sample) =>
    `| ${s.cycle} | ${s.simulatedDay} | ${s.rssMiB} | ${s.heapUsedMiB} | ${s.series} | ${s.eventLoopMaxMs} | ${s.eventLoopP99Ms} | ${s.refreshCpuMsPerCycle} |`;
  const md = `# Soak benchmark

Run: ${run.date} on ${run.machine}, Node ${run.node}; ${run.wallSeconds} s of wall time.
Command: \`${run.command}\` (bench/soak.ts).
Setup: the exporter in-process, REFRESH_INTERVAL 1m, ANALYTICS_REFRESH_INTERVAL 10m, per-user le Chat series on; ${CYCLES} cycles of one simulated minute (${run.simulated}), each the refreshes due then one scrape of /metrics over HTTP.
Churn: every ${CHURN_EVERY} cycles, the next of three simulated organizations (seeds 1-3; ${sizes.map((s) => `${s.users} users, ${s.agents} agents, ${s.workspaces} workspaces`).join('; ')}) answers, through a front renaming about half of the models and half of the ids (users, agents, workspaces, API keys, audit entries) after the generation.
Memory after a forced GC; the simulators and the front run in the same process and count in RSS, heap and CPU. Event-loop delay and CPU over the cycles since the previous sample.

| figure | first | last | peak | slope per 1000 cycles | slope, second half |
| --- | --- | --- | --- | --- | --- |
${figures.map((k) => `| ${k} | ${summary[k]?.first} | ${summary[k]?.last} | ${summary[k]?.peak} | ${summary[k]?.slopePer1000Cycles} | ${summary[k]?.slopePer1000CyclesSecondHalf} |`).join('\n')}

| cycle | simulated time | RSS MiB | heap used MiB | series | loop max ms | loop p99 ms | refresh CPU ms/cycle |
| --- | --- | --- | --- | --- | --- | --- | --- |
${samples.map(row).join('\n')}
`;
  writeFileSync(new URL(`${name}.md`, dir), md);
  const line = (k: (typeof figures)[number]) =>
    `  ${k.padEnd(22)} first ${summary[k]?.first}  last ${summary[k]?.last}  peak ${summary[k]?.peak}  slope/1000 cycles ${summary[k]?.slopePer1000Cycles} (second half ${summary[k]?.slopePer1000CyclesSecondHalf})`;
  process.stdout.write(
    `soak: ${CYCLES} cycles in ${run.wallSeconds} s, ${failures} endpoint(s) down at the end\n${figures.map(line).join('\n')}\nwritten: bench/results/${name}.json, bench/results/${name}.md\n`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
