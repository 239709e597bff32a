/**
 * The benchmark of issue 11: how fast /metrics is served and how much a refresh costs, side by side
 * with baselines, in one run.
 *
 *   npm run bench                      # sizes of ~1 000, 10 000 and 100 000 series, median of 3 (about 45 minutes)
 *   npm run bench -- --quick           # ~1 000 and 10 000 series, 1 repetition, short runs (about 8 minutes)
 *   npm run bench -- --no-pushgateway  # without the prometheus-pushgateway baseline
 *
 * Needs Linux (/proc), Debian's `wrk` and `prometheus-pushgateway` (apt-get install wrk prometheus-pushgateway),
 * and `taskset` (util-linux) to pin the server under test to one core and wrk to another.
 *
 * For each size: the simulator (in this process) behind a front that replays its answers (bench/replay-front.ts),
 * the exporter built from this checkout (dist/, `npm run build` first) in a process of its own, and as baselines
 * a node:http server sending the exporter's bytes from memory (bench/static-server.ts), a naive prom-client
 * exporter holding the same series (bench/naive-exporter.ts) and prometheus-pushgateway with them pushed.
 * wrk loads each at 1, 8 and 64 connections, with Prometheus's Accept header, with and without gzip,
 * the servers in turn (interleaved, the order rotated), repeated. Then the exporter refreshing every few
 * seconds: the CPU and the longest event-loop block of a refresh by its own work, and the loop's longest delay
 * whatever held it (bench/loop-probe.mjs, inside it), the p99
 * of scrapes while it refreshes against an exporter that does not, and the Admin API calls it makes with 1
 * and 10 scrapers (counted at the front).
 *
 * Writes bench/results/bench{,-quick}.{json,md,svg}; a full run (or `--readme`) also puts the tables and chart into
 * README.md (between the `bench:start`/`bench:end` markers); `--report FILE.json` writes them again from a run's
 * JSON without running anything. Figures, not assertions: no test depends on them.
 */
import { waitForLine } from './support/processes.js';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { loadConfig } from '../src/config/index.js';
import { NODE_FLAGS } from '../src/node-flags.js';
import { startSimulator } from '../src/simulator/index.js';
import { renderChart } from './chart.js';
import { startReplayFront } from './replay-front.js';
import type { Capture } from './static-server.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'no-pushgateway': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    readme: { type: 'boolean', default: false },
    report: { type: 'string' },
    users: { type: 'string' },
    reps: { type: 'string' },
    duration: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  process.stdout.write(
    'usage: npm run bench -- [--quick] [--no-pushgateway] [--no-build] [--readme] [--users 42,1170,12600] [--reps N] [--duration SECONDS] [--report RESULTS.json]\n',
  );
  process.exit(0);
}

const QUICK = args.quick === true;
/** Organization sizes (users, per-user series on) and the series they give (measured: 42 → ~1 000, 1170 → ~10 000, 12600 → ~100 000). */
const USERS = (args.users ?? (QUICK ? '42,1170' : '42,1170,12600')).split(',').map(Number);
const REPS = Number(args.reps ?? (QUICK ? 1 : 3));
/** Seconds of each wrk run, and of those of a server too slow to answer ~8 times in that. */
const DURATION_S = Number(args.duration ?? (QUICK ? 2 : 5));
const MAX_DURATION_S = Math.max(DURATION_S, QUICK ? 8 : 20);
/** The refresh interval of the refreshing exporter (every endpoint), seconds. */
const REFRESH_S = QUICK ? 5 : 10;
/** Seconds of the runs comparing p99 while refreshing against p99 without. */
const LONG_RUN_S = QUICK ? 15 : 30;
/** Seconds over which Admin API calls are counted (six refresh intervals: each endpoint's jitter averages out). */
const CALLS_WINDOW_S = REFRESH_S * 6;
const CONNECTIONS = [1, 8, 64] as const;
const KEY = 'bench-key';
/** Prometheus 3's Accept header for a scrape (scrape_protocols default). */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
const ROOT = new URL('..', import.meta.url).pathname;
const BENCH = new URL('.', import.meta.url).pathname;
const NAME = QUICK ? 'bench-quick' : 'bench';

type Target = 'exporter' | 'static' | 'naive' | 'pushgateway';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

// ---------------------------------------------------------------------------------------------
// The machine: tools, pinning, /proc

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function preflight(): { pin: boolean } {
  const missing: string[] = [];
  if (process.platform !== 'linux') missing.push('Linux (the benchmark reads /proc)');
  if (!has('wrk')) missing.push('wrk (Debian: apt-get install wrk)');
  if (args['no-pushgateway'] !== true && !has('prometheus-pushgateway'))
    missing.push('prometheus-pushgateway (Debian: apt-get install prometheus-pushgateway; or run with --no-pushgateway)');
  if (missing.length > 0) {
    process.stderr.write(`bench: missing: ${missing.join('; ')}\n`);
    process.exit(2);
  }
  const pin = has('taskset') && os.availableParallelism() >= 2;
  if (!pin) process.stderr.write('bench: no taskset or one core only: servers and wrk are not pinned, figures are noisier\n');
  return { pin };
}

const { pin: PIN } = preflight();
/** The command line that runs `argv` on `core` (the server under test on core 0, wrk on core 1). */
const pinned = (core: 0 | 1, argv: string[]): [string, string[]] =>
  PIN ? ['taskset', ['-c', String(core), ...argv]] : [argv[0] as string, argv.slice(1)];

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU time (user + system, all threads) of a process, ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1000;
}

/** Resident memory of a process, MiB. */
/** The resident memory of `pid`; NaN once it has exited (its runs then show the errors). */
function rssMiB(pid: number): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return Number.NaN;
  }
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/** The highest RSS of `pid` while `run` runs, sampled every 100 ms. */
async function peakRss<T>(pid: number, run: () => Promise<T>): Promise<[T, number]> {
  let peak = Number.NaN;
  // A NaN (the process gone) leaves the peak as it was.
  const sample = () => {
    const rss = rssMiB(pid);
    if (Number.isNaN(peak) || rss > peak) peak = rss;
  };
  sample();
  const timer = setInterval(sample, 100);
  try {
    const result = await run();
    sample();
    return [result, peak];
  } finally {
    clearInterval(timer);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

// ---------------------------------------------------------------------------------------------
// Processes

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

interface Server {
  name: Target | 'exporter (refreshing)';
  pid: number;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

function launch(argv: string[], o: { env?: NodeJS.ProcessEnv; ipc?: boolean; quiet?: boolean } = {}): ChildProcess {
  const [command, rest] = pinned(0, argv);
  const stdio = ['ignore', 'pipe', o.quiet ? 'ignore' : 'inherit', ...(o.ipc ? ['ipc'] : [])] as Array<
    'ignore' | 'pipe' | 'inherit' | 'ipc'
  >;
  const child = spawn(command, rest, { stdio, env: o.env ?? process.env, cwd: ROOT });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}

interface ExporterOptions {
  frontUrl: string;
  users: number;
  refreshS: number;
  probe: boolean;
}

async function startExporter(name: Server['name'], o: ExporterOptions): Promise<Server> {
  // Started as the image starts it (its flags of Node.js), the probe loaded beside it when asked for.
  const argv = [
    process.execPath,
    ...NODE_FLAGS,
    ...(o.probe ? ['--import', join(BENCH, 'loop-probe.mjs')] : []),
    join(ROOT, 'dist/main.js'),
  ];
  const env = {
    ...process.env,
    MISTRAL_ADMIN_API_KEY: KEY,
    MISTRAL_ADMIN_API_URL: o.frontUrl,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    LECHAT_USER_METRICS: 'true',
    LECHAT_USER_LIMIT: String(Math.max(o.users, 1)),
    REFRESH_INTERVAL: `${o.refreshS}s`,
    ANALYTICS_REFRESH_INTERVAL: `${o.refreshS}s`,
    MAX_STALENESS: `${o.refreshS * 4}s`,
    // wrk's 64 connections are all answered, not turned away at the default of 16 in flight.
    HTTP_MAX_METRICS_IN_FLIGHT: '256',
  };
  const child = launch(argv, { env, ipc: o.probe });
  const m = await waitForLine(child, /serving \/metrics on (http:\/\/[^\s"]+)/, name);
  const origin = m[1] as string;
  for (;;) {
    if ((await get(`${origin}/-/ready`)).status === 200) break;
    await sleep(200);
  }
  return { name, pid: child.pid as number, url: `${origin}/metrics`, child, stop: stopper(child) };
}

/** The baselines compiled to plain JavaScript (so that no TypeScript loader counts in their memory), under node_modules for prom-client. */
const BASELINES = join(ROOT, 'node_modules/.cache/mae-bench');

function compileBaselines(): void {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const options = ['--outDir', BASELINES, '--rootDir', BENCH, '--module', 'nodenext', '--moduleResolution', 'nodenext'];
  options.push('--target', 'es2023', '--types', 'node', '--skipLibCheck', '--strict');
  const built = spawnSync(process.execPath, [tsc, ...options, join(BENCH, 'static-server.ts'), join(BENCH, 'naive-exporter.ts')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (built.status !== 0) throw new Error('compiling the baselines failed');
}

async function startNodeServer(name: 'static' | 'naive', script: string, file: string): Promise<Server> {
  const child = launch([process.execPath, join(BASELINES, script.replace(/\.ts$/, '.js')), file]);
  const m = await waitForLine(child, /listening on (\d+)/, name);
  return { name, pid: child.pid as number, url: `http://127.0.0.1:${m[1]}/metrics`, child, stop: stopper(child) };
}

async function startPushgateway(text: Buffer): Promise<Server> {
  const port = await freePort();
  // Quiet: it logs every connection wrk closes at the end of a run.
  const child = launch(['prometheus-pushgateway', `--web.listen-address=127.0.0.1:${port}`], { quiet: true });
  child.stdout?.resume();
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ready = await get(`${origin}/-/ready`).catch(() => undefined);
    if (ready?.status === 200) break;
    if (i > 100) throw new Error('prometheus-pushgateway did not get ready');
    await sleep(100);
  }
  const res = await request(`${origin}/metrics/job/bench`, {
    method: 'PUT',
    body: text,
    headers: { 'content-type': 'text/plain; version=0.0.4' },
  });
  const answer = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`prometheus-pushgateway refused the push: ${res.statusCode} ${answer}`);
  return { name: 'pushgateway', pid: child.pid as number, url: `${origin}/metrics`, child, stop: stopper(child) };
}

// ---------------------------------------------------------------------------------------------
// Load

interface WrkFigures {
  requests: number;
  durationUs: number;
  bytes: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  statusErrors: number;
  timeouts: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  meanUs: number;
}

async function wrk(url: string, connections: number, gzip: boolean, seconds: number): Promise<WrkFigures> {
  const argv = ['wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '60s', '-s', join(BENCH, 'wrk-report.lua')];
  argv.push('-H', `Accept: ${PROMETHEUS_ACCEPT}`);
  if (gzip) argv.push('-H', 'Accept-Encoding: gzip');
  argv.push(url);
  const [command, rest] = pinned(1, argv);
  const child = spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  children.delete(child);
  const line = /WRK_JSON (\{.*\})/.exec(out);
  if (code !== 0 || !line) throw new Error(`wrk failed (${code}): ${out}`);
  return JSON.parse(line[1] as string) as WrkFigures;
}

interface Run {
  users: number;
  series: number;
  target: Target;
  connections: number;
  gzip: boolean;
  rep: number;
  scrapesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuMsPerScrape: number;
  bytesPerScrape: number;
  errors: number;
  rssPeakMiB: number;
}

async function load(server: Server, connections: number, gzip: boolean, seconds: number) {
  const cpuBefore = cpuMs(server.pid);
  const [w, rssPeak] = await peakRss(server.pid, () => wrk(server.url, connections, gzip, seconds));
  const cpu = cpuMs(server.pid) - cpuBefore;
  const errors = w.connectErrors + w.readErrors + w.writeErrors + w.statusErrors + w.timeouts;
  const good = Math.max(0, w.requests - w.statusErrors);
  return {
    // Three decimals: a slow baseline may complete one answer in 20 s (0.05/s).
    scrapesPerSecond: round(good / (w.durationUs / 1e6), 3),
    p50Ms: round(w.p50Us / 1000, 3),
    p99Ms: round(w.p99Us / 1000, 3),
    maxMs: round(w.maxUs / 1000, 3),
    cpuMsPerScrape: good > 0 ? round(cpu / good, 3) : Number.NaN,
    bytesPerScrape: w.requests > 0 ? Math.round(w.bytes / w.requests) : 0,
    errors,
    rssPeakMiB: round(rssPeak, 1),
  };
}

// ---------------------------------------------------------------------------------------------
// The loop probe inside the refreshing exporter

interface ProbeWindow {
  maxBlockMs: number;
  maxCpuBlockMs: number;
  p99DelayMs: number;
  activeMs: number;
  cpuMs: number;
  wallMs: number;
}

async function probeWindow(server: Server, ms: number, histogram: boolean): Promise<ProbeWindow> {
  server.child.send({ probe: 'start', histogram });
  await sleep(ms);
  const answer = new Promise<ProbeWindow>((resolve) => {
    const onMessage = (m: { probe?: string } & ProbeWindow) => {
      if (m.probe !== 'window') return;
      server.child.off('message', onMessage);
      resolve(m);
    };
    server.child.on('message', onMessage);
  });
  server.child.send({ probe: 'stop' });
  return answer;
}

/** The exporter's own count of Admin API requests, by endpoint. */
async function apiRequests(server: Server): Promise<Map<string, number>> {
  const text = (await get(server.url)).body.toString();
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^mistral_exporter_api_requests_total\{[^}]*api_endpoint="([^"]+)"[^}]*\} (\S+)/gm))
    counts.set(m[1] as string, (counts.get(m[1] as string) ?? 0) + Number(m[2]));
  return counts;
}

/** Waits until the front has had no request for `quietMs`: the refreshes in flight have ended. */
async function settle(calls: () => number, quietMs = 1500): Promise<void> {
  let last = calls();
  for (;;) {
    await sleep(quietMs);
    const now = calls();
    if (now === last) return;
    last = now;
  }
}

// ---------------------------------------------------------------------------------------------
// One size

interface SizeResult {
  users: number;
  series: number;
  bytes: { text: number; openMetrics: number; openMetricsGzip: number };
  runs: Run[];
  /** `restMiB`: at rest once every form was scraped (all four held); `restPrometheusOnlyMiB` (the exporter): at rest when only Prometheus's form was. */
  rss: Record<string, { restMiB: number; restPrometheusOnlyMiB?: number; underLoadMiB: number; afterLoadMiB: number }>;
  refresh: {
    intervalS: number;
    cycles: number;
    cpuMsPerCycle: number;
    /** The longest delay of the event loop (a 1 ms histogram): the loop held, or the process kept off its core. */
    longestBlockMs: number;
    /** The longest block of the loop by the process's own work: each gap of a 1 ms timer counted as the CPU time used in it when that is less; absent in runs before it was measured. */
    longestCpuBlockMs?: number;
    loopActiveMsPerCycle: number;
    rssUnderRefreshesMiB: number;
    callsPerCycle: number;
    /** The same, the answers of every refresh byte for byte the last ones (le Chat's series kept as rendered); absent in runs before it was measured. */
    sameAnswers?: { cpuMsPerCycle: number; longestBlockMs: number; longestCpuBlockMs?: number; loopActiveMsPerCycle: number };
  };
  /** Only at the largest size. */
  duringRefreshes?: { reps: Array<{ p99RefreshingMs: number; p99QuietMs: number; maxRefreshingMs: number; maxQuietMs: number }> };
  apiCalls?: {
    intervalS: number;
    windowS: number;
    scrapers: Array<{ scrapers: number; calls: number; callsPerHour: number; callsPerHourAtDefaultIntervals: number }>;
  };
}

/** Default refresh interval of each endpoint (ms), from the exporter's own configuration. */
function defaultIntervals(): Record<string, number> {
  const command = loadConfig({ argv: [], env: { MISTRAL_ADMIN_API_KEY: 'x' } });
  if (command.kind !== 'run') throw new Error('unexpected command');
  return command.config.refreshIntervalsMs;
}

async function benchSize(users: number, largest: boolean, tmp: string): Promise<SizeResult> {
  const log = (s: string) => process.stderr.write(`bench [${users} users] ${s}\n`);
  const sim = await startSimulator({ apiKey: KEY, org: { users } });
  const front = await startReplayFront(sim.url);
  const servers: Server[] = [];
  try {
    log('starting the exporter (first refresh goes to the simulator)');
    const before = front.calls();
    const exporter = await startExporter('exporter', { frontUrl: front.url, users, refreshS: 1800, probe: false });
    servers.push(exporter);
    await settle(front.calls);
    const callsPerCycle = front.calls() - before;

    // What the exporter sends, in the four variants, for the baselines: Prometheus's form first, then the exporter's RSS
    // as a deployment scraped by Prometheus alone holds it (one form made and kept), then the three others.
    const captures: Capture[] = [];
    const bodies = new Map<string, Buffer>();
    let restPrometheusOnlyMiB = 0;
    for (const [openMetrics, gzip] of [
      [true, true],
      [false, false],
      [false, true],
      [true, false],
    ] as const) {
      const headers: Record<string, string> = {};
      if (openMetrics) headers.accept = PROMETHEUS_ACCEPT;
      if (gzip) headers['accept-encoding'] = 'gzip';
      const res = await get(exporter.url, headers);
      if (res.status !== 200) throw new Error(`exporter /metrics answered ${res.status}`);
      const file = join(tmp, `${users}-${openMetrics ? 'om' : 'text'}${gzip ? '.gz' : ''}`);
      writeFileSync(file, res.body);
      bodies.set(`${openMetrics}-${gzip}`, res.body);
      const encoding = res.headers['content-encoding'];
      captures.push({
        openMetrics,
        gzip,
        file,
        contentType: String(res.headers['content-type']),
        contentEncoding: typeof encoding === 'string' ? encoding : undefined,
      });
      if (openMetrics && gzip) {
        await sleep(2000);
        restPrometheusOnlyMiB = round(rssMiB(exporter.pid), 1);
      }
    }
    const manifest = join(tmp, `${users}-captures.json`);
    writeFileSync(manifest, JSON.stringify(captures));
    const text = bodies.get('false-false') as Buffer;
    const series = text
      .toString()
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#')).length;
    log(`${series} series, ${text.length} bytes of text`);

    log('starting the baselines');
    const baselines: Server[] = [
      await startNodeServer('static', 'static-server.ts', manifest),
      await startNodeServer('naive', 'naive-exporter.ts', join(tmp, `${users}-text`)),
    ];
    if (args['no-pushgateway'] !== true) baselines.push(await startPushgateway(text));
    servers.push(...baselines);
    const targets = [exporter, ...baselines];

    // Warm up (JIT, buffers), then RSS at rest. A server too slow for ~8 answers in a run of DURATION_S gets
    // longer runs (up to MAX_DURATION_S), so that its figures rest on more than one or two answers.
    const runSeconds = new Map<Server, number>();
    for (const s of targets) {
      const w = await wrk(s.url, 1, true, 1);
      const perScrapeS = w.requests > 0 ? w.durationUs / 1e6 / w.requests : MAX_DURATION_S;
      runSeconds.set(s, Math.min(MAX_DURATION_S, Math.max(DURATION_S, Math.ceil(8 * perScrapeS))));
    }
    log(`run seconds: ${targets.map((s) => `${s.name} ${runSeconds.get(s)}`).join(', ')}`);
    await sleep(2000);
    const rss: SizeResult['rss'] = {};
    for (const s of targets) rss[s.name] = { restMiB: round(rssMiB(s.pid), 1), underLoadMiB: 0, afterLoadMiB: 0 };
    (rss['exporter'] as SizeResult['rss'][string]).restPrometheusOnlyMiB = restPrometheusOnlyMiB;

    const runs: Run[] = [];
    let turn = 0;
    for (let rep = 0; rep < REPS; rep++)
      for (const connections of CONNECTIONS)
        for (const gzip of [true, false]) {
          const order = targets.map((_, i) => targets[(i + turn) % targets.length] as Server);
          turn++;
          for (const s of order) {
            const figures = await load(s, connections, gzip, runSeconds.get(s) ?? DURATION_S);
            runs.push({ users, series, target: s.name as Target, connections, gzip, rep, ...figures });
            const r = rss[s.name] as SizeResult['rss'][string];
            r.underLoadMiB = Math.max(r.underLoadMiB, figures.rssPeakMiB);
            log(
              `rep ${rep + 1}/${REPS} c${connections} ${gzip ? 'gzip ' : 'plain'} ${s.name.padEnd(11)} ${String(figures.scrapesPerSecond).padStart(8)}/s p99 ${figures.p99Ms} ms${figures.errors ? ` errors ${figures.errors}` : ''}`,
            );
          }
        }
    await sleep(5000);
    for (const s of targets) (rss[s.name] as SizeResult['rss'][string]).afterLoadMiB = round(rssMiB(s.pid), 1);
    for (const s of baselines) await s.stop();

    // The exporter refreshing every REFRESH_S seconds, alone on its core.
    log(`the exporter refreshing every ${REFRESH_S}s`);
    const refreshing = await startExporter('exporter (refreshing)', { frontUrl: front.url, users, refreshS: REFRESH_S, probe: true });
    servers.push(refreshing);
    await settle(front.calls, 500);
    // CPU and loop busy time without the delay histogram (its 1 ms timer costs CPU), then the longest block with it:
    // first with answers that change at every refresh (every series made again), then with the same answers again.
    const measureRefreshes = async () => {
      const from = front.calls();
      const [window, rssPeak] = await peakRss(refreshing.pid, () => probeWindow(refreshing, REFRESH_S * 3 * 1000, false));
      const cycles = (front.calls() - from) / callsPerCycle;
      const blocks = await probeWindow(refreshing, REFRESH_S * 3 * 1000, true);
      return {
        cycles: round(cycles, 2),
        cpuMsPerCycle: round(window.cpuMs / cycles, 1),
        longestBlockMs: round(blocks.maxBlockMs, 1),
        longestCpuBlockMs: round(blocks.maxCpuBlockMs, 1),
        loopActiveMsPerCycle: round(window.activeMs / cycles, 1),
        rssPeak,
      };
    };
    front.changeAnswers(true);
    const changing = await measureRefreshes();
    front.changeAnswers(false);
    const same = await measureRefreshes();
    const refresh: SizeResult['refresh'] = {
      intervalS: REFRESH_S,
      cycles: changing.cycles,
      cpuMsPerCycle: changing.cpuMsPerCycle,
      longestBlockMs: changing.longestBlockMs,
      longestCpuBlockMs: changing.longestCpuBlockMs,
      loopActiveMsPerCycle: changing.loopActiveMsPerCycle,
      rssUnderRefreshesMiB: round(changing.rssPeak, 1),
      callsPerCycle,
      sameAnswers: {
        cpuMsPerCycle: same.cpuMsPerCycle,
        longestBlockMs: same.longestBlockMs,
        longestCpuBlockMs: same.longestCpuBlockMs,
        loopActiveMsPerCycle: same.loopActiveMsPerCycle,
      },
    };
    log(`refresh: ${JSON.stringify(refresh)}`);

    const result: SizeResult = {
      users,
      series,
      bytes: {
        text: text.length,
        openMetrics: (bodies.get('true-false') as Buffer).length,
        openMetricsGzip: (bodies.get('true-true') as Buffer).length,
      },
      runs,
      rss,
      refresh,
    };

    if (largest) {
      log('p99 while refreshing against p99 between refreshes (c8, gzip; answers changing at every refresh)');
      front.changeAnswers(true);
      const reps: NonNullable<SizeResult['duringRefreshes']>['reps'] = [];
      for (let rep = 0; rep < REPS; rep++) {
        const pair = rep % 2 === 0 ? [refreshing, exporter] : [exporter, refreshing];
        const figures = new Map<Server, Awaited<ReturnType<typeof load>>>();
        for (const s of pair) figures.set(s, await load(s, 8, true, LONG_RUN_S));
        const r = figures.get(refreshing) as Awaited<ReturnType<typeof load>>;
        const q = figures.get(exporter) as Awaited<ReturnType<typeof load>>;
        reps.push({ p99RefreshingMs: r.p99Ms, p99QuietMs: q.p99Ms, maxRefreshingMs: r.maxMs, maxQuietMs: q.maxMs });
        log(`p99 refreshing ${r.p99Ms} ms, quiet ${q.p99Ms} ms`);
      }
      result.duringRefreshes = { reps };
      front.changeAnswers(false);

      log('Admin API calls with 1 and 10 scrapers');
      const defaults = defaultIntervals();
      const scrapers: NonNullable<SizeResult['apiCalls']>['scrapers'] = [];
      for (const n of [1, 10]) {
        const callsBefore = front.calls();
        const byEndpointBefore = await apiRequests(refreshing);
        const w = await wrk(refreshing.url, n, true, CALLS_WINDOW_S);
        const seconds = w.durationUs / 1e6;
        const calls = front.calls() - callsBefore;
        const byEndpoint = await apiRequests(refreshing);
        let atDefaults = 0;
        for (const [endpoint, count] of byEndpoint) {
          const delta = count - (byEndpointBefore.get(endpoint) ?? 0);
          atDefaults += (delta * (REFRESH_S * 1000)) / (defaults[endpoint] ?? 60_000);
        }
        scrapers.push({
          scrapers: n,
          calls,
          callsPerHour: Math.round((calls * 3600) / seconds),
          callsPerHourAtDefaultIntervals: Math.round((atDefaults * 3600) / seconds),
        });
      }
      result.apiCalls = { intervalS: REFRESH_S, windowS: CALLS_WINDOW_S, scrapers };
      log(`calls: ${JSON.stringify(scrapers)}`);
    }
    return result;
  } finally {
    for (const s of servers) await s.stop();
    await front.close();
    await sim.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

interface Cell {
  users: number;
  series: number;
  target: Target;
  connections: number;
  gzip: boolean;
  scrapesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuMsPerScrape: number;
  rssPeakMiB: number;
  bytesPerScrape: number;
  errors: number;
}

/** Medians over the repetitions, per size, target, connections and gzip. */
function cells(sizes: SizeResult[]): Cell[] {
  const out: Cell[] = [];
  for (const size of sizes)
    for (const target of ['exporter', 'static', 'naive', 'pushgateway'] as const)
      for (const connections of CONNECTIONS)
        for (const gzip of [true, false]) {
          const runs = size.runs.filter((r) => r.target === target && r.connections === connections && r.gzip === gzip);
          if (runs.length === 0) continue;
          const m = (k: keyof Run) => median(runs.map((r) => r[k] as number));
          out.push({
            users: size.users,
            series: size.series,
            target,
            connections,
            gzip,
            scrapesPerSecond: round(m('scrapesPerSecond'), 3),
            p50Ms: round(m('p50Ms'), 2),
            p99Ms: round(m('p99Ms'), 2),
            maxMs: round(m('maxMs'), 2),
            cpuMsPerScrape: round(m('cpuMsPerScrape'), 3),
            rssPeakMiB: round(Math.max(...runs.map((r) => r.rssPeakMiB)), 1),
            bytesPerScrape: Math.round(m('bytesPerScrape')),
            errors: runs.reduce((a, r) => a + r.errors, 0),
          });
        }
  return out;
}

/** Exporter ÷ baseline throughput: the median over repetitions of each repetition's ratio. */
function ratio(size: SizeResult, baseline: Target, connections: number, gzip: boolean): number {
  const of = (target: Target, rep: number) =>
    size.runs.find((r) => r.target === target && r.connections === connections && r.gzip === gzip && r.rep === rep)?.scrapesPerSecond;
  const ratios: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const e = of('exporter', rep);
    const b = of(baseline, rep);
    if (e !== undefined && b !== undefined && b > 0) ratios.push(e / b);
  }
  return round(median(ratios), 2);
}

interface TargetCheck {
  target: string;
  measured: string;
  ratio: number;
  pass: boolean | undefined;
}

function checks(sizes: SizeResult[]): TargetCheck[] {
  const bySeries = (approx: number) => sizes.find((s) => Math.abs(s.series - approx) / approx < 0.3);
  const out: TargetCheck[] = [];
  const add = (target: string, measured: number | undefined, limit: number, atLeast: boolean, unit: string) => {
    if (measured === undefined || !Number.isFinite(measured)) {
      out.push({ target, measured: 'not measured', ratio: Number.NaN, pass: undefined });
      return;
    }
    const r = round(measured / limit, 2);
    out.push({ target, measured: `${round(measured, 2)}${unit}`, ratio: r, pass: atLeast ? r >= 1 : r <= 1 });
  };
  for (const [approx, limit] of [
    [1_000, 0.5],
    [10_000, 0.8],
    [100_000, 0.8],
  ] as const) {
    const size = bySeries(approx);
    add(
      `exporter ÷ static at ${approx.toLocaleString('en').replace(/,/g, ' ')} series (c8, Prometheus headers) ≥ ${limit}`,
      size && ratio(size, 'static', 8, true),
      limit,
      true,
      '',
    );
  }
  // The 100 000-series targets; without that size (--quick), measured at the largest size run, and said so.
  const largest = sizes[sizes.length - 1];
  const big = bySeries(100_000) ?? largest;
  const at = big === undefined ? '' : big === bySeries(100_000) ? '' : ` (measured at ${fmt(big.series)} series: no 100 000 in this run)`;
  const during = big?.duringRefreshes;
  add(
    `p99 during refreshes ÷ p99 between them at 100 000 series ≤ 1.5${at}`,
    during && median(during.reps.map((r) => r.p99RefreshingMs / r.p99QuietMs)),
    1.5,
    false,
    '',
  );
  // The block by the exporter's own work where it was measured (runs before it had only the loop's longest delay).
  const ownWork = sizes.every((s) => s.refresh.longestCpuBlockMs !== undefined);
  const blockOf = (b: { longestBlockMs: number; longestCpuBlockMs?: number } | undefined) =>
    ownWork ? b?.longestCpuBlockMs : b?.longestBlockMs;
  const blocks = (pick: (s: SizeResult) => { longestBlockMs: number; longestCpuBlockMs?: number } | undefined) => {
    const each = sizes.map((s) => blockOf(pick(s)));
    return each.every((b) => b !== undefined) ? Math.max(...(each as number[])) : undefined;
  };
  const what = ownWork ? 'longest event-loop block of a refresh by its own work' : 'longest event-loop block of a refresh';
  add(
    `${what}, every size, < 20 ms (answers changing at every refresh)`,
    blocks((s) => s.refresh),
    20,
    false,
    ' ms',
  );
  add(
    `${what}, every size, < 20 ms (the same answers again)`,
    blocks((s) => s.refresh.sameAnswers),
    20,
    false,
    ' ms',
  );
  add(`refresh CPU at 100 000 series < 200 ms (answers changing at every refresh)${at}`, big?.refresh.cpuMsPerCycle, 200, false, ' ms');
  add(`refresh CPU at 100 000 series < 200 ms (the same answers again)${at}`, big?.refresh.sameAnswers?.cpuMsPerCycle, 200, false, ' ms');
  add(`RSS at 100 000 series at rest < 150 MiB, all four forms scraped and held${at}`, big?.rss['exporter']?.restMiB, 150, false, ' MiB');
  add(
    `RSS at 100 000 series at rest < 150 MiB, scraped by Prometheus alone (OpenMetrics, gzip)${at}`,
    big?.rss['exporter']?.restPrometheusOnlyMiB,
    150,
    false,
    ' MiB',
  );
  add(`RSS at 100 000 series after the c64 run < 250 MiB${at}`, big?.rss['exporter']?.afterLoadMiB, 250, false, ' MiB');
  return out;
}

const fmt = (n: number) => (Number.isFinite(n) ? n.toLocaleString('en').replace(/,/g, ' ') : '–');
const seriesLabel = (n: number) => fmt(n);
/** A ratio; '–' when the baseline completed no answer in its run. */
const fixed = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');

function markdown(run: BenchRun): string {
  const { sizes } = run;
  const all = cells(sizes);
  const baselines = (['static', 'naive', 'pushgateway'] as const).filter((b) => all.some((c) => c.target === b));
  const lines: string[] = [];
  lines.push(`# Benchmark${QUICK ? ' (--quick: indicative only)' : ''}`, '');
  lines.push(`Run: ${run.date} on ${run.machine}, Node ${run.node}; ${run.wallMinutes} min. Command: \`${run.command}\` (bench/bench.ts).`);
  lines.push(`Setup: ${run.setup}`, '', '## Exporter ÷ baselines (scrapes per second, same run, median of the repetitions’ ratios)', '');
  const head = [
    'series',
    'headers',
    ...baselines.map((b) => `÷ ${b} (c1 / c8 / c64)`),
    'exporter scrapes/s (c1 / c8 / c64)',
    'exporter p99 at c8',
  ];
  lines.push(`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`);
  for (const size of sizes)
    for (const gzip of [true, false]) {
      const row = [seriesLabel(size.series), gzip ? 'Prometheus (OpenMetrics, gzip)' : 'Prometheus, no gzip'];
      for (const b of baselines) row.push(CONNECTIONS.map((c) => fixed(ratio(size, b, c, gzip))).join(' / '));
      const e = (c: number) => all.find((x) => x.users === size.users && x.target === 'exporter' && x.connections === c && x.gzip === gzip);
      row.push(CONNECTIONS.map((c) => fmt(e(c)?.scrapesPerSecond ?? Number.NaN)).join(' / '));
      row.push(`${e(8)?.p99Ms ?? '–'} ms`);
      lines.push(`| ${row.join(' | ')} |`);
    }
  lines.push('', '## Targets (issue 11)', '', '| target | measured | ratio to the target | |', '| --- | --- | --- | --- |');
  for (const c of run.targets)
    lines.push(
      `| ${c.target} | ${c.measured} | ${Number.isFinite(c.ratio) ? c.ratio.toFixed(2) : '–'} | ${c.pass === undefined ? 'not measured' : c.pass ? 'pass' : 'miss'} |`,
    );
  lines.push('', '## Refreshes and memory of the exporter', '');
  lines.push(
    '| series | /metrics bytes (text / OpenMetrics / gzip) | refresh CPU (answers changing / the same again) | longest event-loop block by its own work (changing / same) | longest event-loop delay (changing / same) | loop busy per refresh (changing / same) | RSS at rest (Prometheus alone / every form) | RSS under refreshes | RSS under load | RSS after load |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const s of sizes) {
    const r = s.rss['exporter'];
    const same = s.refresh.sameAnswers;
    lines.push(
      `| ${seriesLabel(s.series)} | ${fmt(s.bytes.text)} / ${fmt(s.bytes.openMetrics)} / ${fmt(s.bytes.openMetricsGzip)} | ${s.refresh.cpuMsPerCycle} / ${same?.cpuMsPerCycle ?? '–'} ms | ${s.refresh.longestCpuBlockMs ?? '–'} / ${same?.longestCpuBlockMs ?? '–'} ms | ${s.refresh.longestBlockMs} / ${same?.longestBlockMs ?? '–'} ms | ${s.refresh.loopActiveMsPerCycle} / ${same?.loopActiveMsPerCycle ?? '–'} ms | ${r?.restPrometheusOnlyMiB ?? '–'} / ${r?.restMiB} MiB | ${s.refresh.rssUnderRefreshesMiB} MiB | ${r?.underLoadMiB} MiB | ${r?.afterLoadMiB} MiB |`,
    );
  }
  lines.push(
    '',
    `Refresh figures: every endpoint refreshing every ${REFRESH_S} s, no scrapes, over ${REFRESH_S * 3} s, first with answers that change at every refresh (the front adds or drops a space at the end of each JSON answer: the same data, other bytes, so every series is made again), then with the same answers again (le Chat's series, from byte-identical answers, are kept as rendered) (the CPU and the event loop's busy time divided by the refresh cycles, counted from the Admin API calls); the blocks are read over another ${REFRESH_S * 3} s by bench/loop-probe.mjs in the exporter: the longest block by its own work counts each gap between two ticks of a 1 ms timer as the CPU time the process used in it when that is less, and the longest delay is monitorEventLoopDelay's maximum (1 ms resolution), which on a shared machine also counts the time the exporter waited for a core. RSS at rest: 2 s after the first refresh and one scrape with Prometheus's headers (Prometheus alone: the one form made and kept), then 2 s after a scrape of every form and a warm-up run (every form: all four made and kept, as after a person's curl).`,
  );
  const largest = sizes.find((s) => s.duringRefreshes);
  if (largest?.duringRefreshes) {
    lines.push(
      '',
      `## Scrapes while refreshing, at ${seriesLabel(largest.series)} series (c8, Prometheus headers, ${LONG_RUN_S} s runs)`,
      '',
    );
    lines.push(`| repetition | p99 refreshing every ${REFRESH_S} s | p99 not refreshing | ratio | max refreshing | max not refreshing |`);
    lines.push('| --- | --- | --- | --- | --- | --- |');
    largest.duringRefreshes.reps.forEach((r, i) => {
      lines.push(
        `| ${i + 1} | ${r.p99RefreshingMs} ms | ${r.p99QuietMs} ms | ${round(r.p99RefreshingMs / r.p99QuietMs, 2)} | ${r.maxRefreshingMs} ms | ${r.maxQuietMs} ms |`,
      );
    });
  }
  if (largest?.apiCalls) {
    lines.push('', `## Admin API calls, at ${seriesLabel(largest.series)} series (counted at the front)`, '');
    lines.push(
      `| scrapers | calls in ${largest.apiCalls.windowS} s (every endpoint every ${largest.apiCalls.intervalS} s) | per hour at that interval | per hour at the default intervals |`,
    );
    lines.push('| --- | --- | --- | --- |');
    for (const s of largest.apiCalls.scrapers)
      lines.push(`| ${s.scrapers} | ${s.calls} | ${fmt(s.callsPerHour)} | ${fmt(s.callsPerHourAtDefaultIntervals)} |`);
  }
  lines.push(
    '',
    '## Every cell (medians)',
    '',
    'Scrapes/s counts answers completed in a run (non-2xx excluded: there were none unless the errors column says so); CPU per scrape is the server’s CPU time over the run ÷ those answers; bytes per scrape is what wrk read ÷ those answers (an answer still in flight when a run ends adds bytes, not an answer: slow servers’ figures are inflated by it); RSS peak is sampled every 100 ms. A 0 is a run in which no answer completed.',
    '',
  );
  lines.push(
    '| series | target | connections | gzip | scrapes/s | p50 | p99 | max | CPU per scrape | bytes per scrape | RSS peak | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const c of all)
    lines.push(
      `| ${seriesLabel(c.series)} | ${c.target} | ${c.connections} | ${c.gzip ? 'yes' : 'no'} | ${fmt(c.scrapesPerSecond)} | ${c.p50Ms} ms | ${c.p99Ms} ms | ${c.maxMs} ms | ${c.cpuMsPerScrape} ms | ${fmt(c.bytesPerScrape)} | ${c.rssPeakMiB} MiB | ${c.errors} |`,
    );
  lines.push(
    '',
    '## RSS of each server (MiB: at rest / peak under load / 5 s after load)',
    '',
    '| series | target | rest | under load | after |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const s of sizes)
    for (const [target, r] of Object.entries(s.rss))
      lines.push(`| ${seriesLabel(s.series)} | ${target} | ${r.restMiB} | ${r.underLoadMiB} | ${r.afterLoadMiB} |`);
  return `${lines.join('\n')}\n`;
}

interface BenchRun {
  date: string;
  machine: string;
  node: string;
  command: string;
  quick: boolean;
  pinned: boolean;
  wallMinutes: number;
  setup: string;
  sizes: SizeResult[];
  targets: TargetCheck[];
}

function updateReadme(run: BenchRun, md: string): void {
  const readme = join(ROOT, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md has no ${start} … ${end} markers`);
  const headline = md.slice(md.indexOf('## Exporter ÷ baselines'), md.indexOf('## Refreshes and memory'));
  const section = [
    start,
    `Measured ${run.date.slice(0, 10)} on ${run.machine}${run.quick ? ', with `--quick` (sizes of ~1 000 and 10 000 series, one repetition, short runs: indicative only)' : ''}; every figure in [bench/results/${NAME}.md](bench/results/${NAME}.md).`,
    '',
    headline.replace(/^## /gm, '#### ').trim(),
    '',
    `![Scrapes per second and p99 latency against the series served](bench/results/${NAME}.svg)`,
    end,
  ].join('\n');
  writeFileSync(readme, text.slice(0, a) + section + text.slice(b + end.length));
}

async function writeOutputs(run: BenchRun): Promise<void> {
  const dir = join(BENCH, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${NAME}.json`), `${JSON.stringify(run, null, 2)}\n`);
  const md = markdown(run);
  writeFileSync(join(dir, `${NAME}.md`), md);
  const chartCells = cells(run.sizes).filter((c) => c.connections === 8 && c.gzip);
  writeFileSync(join(dir, `${NAME}.svg`), await renderChart(chartCells, QUICK));
  const readme = args.readme === true || !QUICK;
  if (readme) updateReadme(run, md);
  process.stdout.write(md);
  process.stderr.write(`bench: written bench/results/${NAME}.{json,md,svg}${readme ? ' and README.md' : ''}\n`);
}

async function main(): Promise<void> {
  if (args.report !== undefined) {
    // Only the report again, from a run's JSON (with the same --quick as the run).
    const run = JSON.parse(readFileSync(args.report, 'utf8')) as BenchRun;
    await writeOutputs({ ...run, targets: checks(run.sizes) });
    return;
  }
  const started = Date.now();
  if (args['no-build'] !== true) {
    process.stderr.write('bench: building the exporter (npm run build)\n');
    const built = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('npm run build failed');
  }
  compileBaselines();
  const tmp = mkdtempSync(join(os.tmpdir(), 'mae-bench-'));
  const sizes: SizeResult[] = [];
  try {
    for (const [i, users] of USERS.entries()) sizes.push(await benchSize(users, i === USERS.length - 1, tmp));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const run: BenchRun = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the end`,
    node: process.version,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    quick: QUICK,
    pinned: PIN,
    wallMinutes: round((Date.now() - started) / 60_000, 1),
    setup: `simulator organizations of ${USERS.join(', ')} users (seed 1, per-user le Chat series on), behind a front replaying its answers; the exporter from dist/ (this checkout) refreshing every 30 min during the load runs; wrk -t1 for ${DURATION_S} s per run (up to ${MAX_DURATION_S} s for a server answering fewer than ~8 times in that) at ${CONNECTIONS.join(', ')} connections, ${REPS} repetition(s), targets interleaved; ${PIN ? 'servers pinned to core 0, wrk to core 1 (taskset)' : 'not pinned'}. Baselines: static = node:http sending the exporter's captured bytes from memory; naive = prom-client gauges holding the same series, register.metrics() per scrape, text, no gzip; pushgateway = Debian's prometheus-pushgateway with the text exposition pushed. CPU per scrape from /proc/PID/stat of the server.`,
    sizes,
    targets: checks(sizes),
  };
  await writeOutputs(run);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
