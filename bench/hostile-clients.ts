/**
 * Hostile-client benchmark: what clients that anyone who reaches the port
 * can be cost the exporter's memory. Replays the clients of issue 10 over
 * real sockets against an exporter in a process of its own (so its RSS is
 * the exporter's alone), itself reading the simulator (another process):
 *
 *   - pipelined: N `GET /metrics` written at once on one socket (and on 3),
 *     the answers read as they come;
 *   - never-reading: 40 clients that each send `GET /metrics` and never read.
 *
 * Each probe starts a fresh exporter and reports its RSS before (ready and
 * warmed up), at its peak (VmHWM) and a while after the clients left, the
 * answers the clients got, whether the exporter closed their connections,
 * and whether `/-/healthy` still answered on a connection of its own.
 *
 *   npm run bench:hostile                                          # demo org: bench/results/hostile-clients-demo.md
 *   npm run bench:hostile -- --users 10000 --user-metrics --pipelined 300
 *                                                                  # 7.8 MB bodies: bench/results/hostile-clients-10000-users.md
 *   npm run bench:hostile -- --exporter /path/to/other/src/main.ts # another checkout (e.g. main, for "before")
 *
 * Linux only (reads /proc). Figures, not assertions: no test depends on them.
 */
import { startSimulatorProcess, waitForLine } from './support/processes.js';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '2000' },
    'user-metrics': { type: 'boolean', default: false },
    pipelined: { type: 'string', default: '3000' },
    'never-reading': { type: 'string', default: '40' },
    hold: { type: 'string', default: '10' },
    exporter: { type: 'string', default: new URL('../src/main.ts', import.meta.url).pathname },
    label: { type: 'string' },
  },
});
const USERS = Number(args.users);
const USER_METRICS = args['user-metrics'] === true;
const PIPELINED = Number(args.pipelined);
const NEVER_READING = Number(args['never-reading']);
/** Seconds the never-reading clients stay connected. */
const HOLD_S = Number(args.hold);
const SCENARIO = USER_METRICS ? `${USERS}-users` : 'demo';
const KEY = 'bench-key';
const TSX = ['--import', 'tsx'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunningExporter {
  pid: number;
  port: number;
  stop: () => Promise<void>;
}

async function startExporter(simUrl: string): Promise<RunningExporter> {
  const child = spawn(process.execPath, [...TSX, args.exporter as string], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      MISTRAL_ADMIN_API_KEY: KEY,
      MISTRAL_ADMIN_API_URL: simUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      LECHAT_USER_METRICS: String(USER_METRICS),
      LECHAT_USER_LIMIT: String(Math.max(USERS, 1)),
    },
  });
  const m = await waitForLine(child, /serving \/metrics on http:\/\/[^:]+:(\d+)/, 'the exporter');
  child.stdout?.resume(); // its later log lines are not read, only drained
  const port = Number(m[1]);
  for (;;) {
    const ready = await get(port, '/-/ready');
    if (ready.status === 200) break;
    await sleep(200);
  }
  return {
    pid: child.pid as number,
    port,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Starts the peak (VmHWM) over from the current RSS, so that it is the clients' peak, not the start's (Linux 4.0+). */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** VmRSS and VmHWM (peak) of a process, in MiB. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** One GET on a connection of its own; status 0 when the exporter gave no answer within `timeoutMs`. */
function get(port: number, path: string, timeoutMs = 5000): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const done = (status: number) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status, bytes: data.length });
    };
    const timer = setTimeout(() => done(0), timeoutMs);
    socket.on('error', () => done(0));
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      const text = data.toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      if (head < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(text.slice(0, head))?.[1] ?? Number.NaN);
      if (Number.isFinite(length) && data.length >= head + 4 + length) done(Number(text.slice(9, 12)));
    });
    socket.on('close', () => done(data.length > 12 ? Number(data.toString('latin1', 9, 12)) : 0));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n`);
  });
}

const REQUEST = 'GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n';

interface ClientTally {
  /** Status lines received, by status. */
  statuses: Record<string, number>;
  bytes: number;
  /** Connections the exporter closed (rather than the client). */
  closedByServer: number;
}

function tally(): ClientTally {
  return { statuses: {}, bytes: 0, closedByServer: 0 };
}

/** Counts status lines in a stream of answers (a rolling tail finds those cut across two reads). */
function statusCounter(t: ClientTally): (d: Buffer) => number {
  let tail = '';
  let seen = 0;
  return (d) => {
    t.bytes += d.length;
    const text = tail + d.toString('latin1');
    for (const m of text.matchAll(/HTTP\/1\.1 (\d{3}) /g)) {
      t.statuses[m[1] as string] = (t.statuses[m[1] as string] ?? 0) + 1;
      seen++;
    }
    tail = text.slice(-16).replace(/.*HTTP\/1\.1 \d{3} /s, '');
    return seen;
  };
}

/** `count` pipelined GETs on each of `sockets` connections, every answer read; ends when all came or the exporter closed. */
async function pipelined(port: number, sockets: number, count: number, t: ClientTally): Promise<void> {
  await Promise.all(
    Array.from(
      { length: sockets },
      () =>
        new Promise<void>((resolve) => {
          const socket = connect(port, '127.0.0.1');
          const count_ = statusCounter(t);
          const limit = setTimeout(() => socket.destroy(), 300_000);
          let answered = 0;
          socket.on('data', (d: Buffer) => {
            answered = count_(d);
            if (answered >= count) socket.destroy();
          });
          socket.on('end', () => {
            t.closedByServer++;
          });
          socket.on('error', () => undefined);
          socket.on('close', () => {
            clearTimeout(limit);
            resolve();
          });
          socket.write(REQUEST.repeat(count));
        }),
    ),
  );
}

/** `clients` connections that each send one GET /metrics and never read, held for `holdMs`. */
async function neverReading(port: number, clients: number, holdMs: number, t: ClientTally): Promise<void> {
  const sockets: Socket[] = [];
  for (let i = 0; i < clients; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.pause();
    socket.on('error', () => undefined);
    socket.write(REQUEST);
    sockets.push(socket);
  }
  await sleep(holdMs);
  // Only now is what they got read, for the table: an end (within 10 s, time to read what the kernel buffers still hold)
  // means the exporter had closed the connection.
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          const count = statusCounter(t);
          const timer = setTimeout(() => {
            socket.destroy();
            resolve();
          }, 10_000);
          socket.on('data', (d: Buffer) => count(d));
          socket.on('end', () => {
            t.closedByServer++;
            clearTimeout(timer);
            socket.destroy();
            resolve();
          });
          socket.on('close', () => {
            clearTimeout(timer);
            resolve();
          });
          socket.resume();
        }),
    ),
  );
}

/** Set when the peak could not be reset: it is then the process's peak since it started (its first refresh included). */
let peakSinceStart = false;

interface ProbeResult {
  probe: string;
  before: number;
  peak: number;
  after: number;
  statuses: Record<string, number>;
  closedByServer: number;
  connections: number;
  healthy: string;
}

async function probe(
  simUrl: string,
  name: string,
  connections: number,
  run: (port: number, t: ClientTally) => Promise<void>,
): Promise<ProbeResult> {
  const exporter = await startExporter(simUrl);
  for (let i = 0; i < 5; i++) await get(exporter.port, '/metrics', 60_000);
  await sleep(1000);
  const before = memory(exporter.pid).rss;
  peakSinceStart ||= !resetPeak(exporter.pid);
  const t = tally();
  // /-/healthy on a connection of its own, every 250 ms while the clients run.
  const health: number[] = [];
  let running = true;
  const prober = (async () => {
    while (running) {
      health.push((await get(exporter.port, '/-/healthy', 5000)).status);
      await sleep(250);
    }
  })();
  await run(exporter.port, t);
  running = false;
  await prober;
  const peak = memory(exporter.pid).peak;
  await sleep(5000);
  const after = memory(exporter.pid).rss;
  await exporter.stop();
  const ok = health.filter((s) => s === 200).length;
  const result = {
    probe: name,
    before,
    peak,
    after,
    statuses: t.statuses,
    closedByServer: t.closedByServer,
    connections,
    healthy: `${ok}/${health.length}`,
  };
  process.stderr.write(`${JSON.stringify(result)}\n`);
  return result;
}

async function main(): Promise<void> {
  const sim = await startSimulatorProcess(['--api-key', KEY, '--users', String(USERS)]);
  const results: ProbeResult[] = [];
  try {
    results.push(await probe(sim.url, `${PIPELINED} pipelined GET /metrics, 1 socket`, 1, (port, t) => pipelined(port, 1, PIPELINED, t)));
    results.push(await probe(sim.url, `${PIPELINED} pipelined GET /metrics, 3 sockets`, 3, (port, t) => pipelined(port, 3, PIPELINED, t)));
    results.push(
      await probe(sim.url, `${NEVER_READING} clients that never read, held ${HOLD_S}s`, NEVER_READING, (port, t) =>
        neverReading(port, NEVER_READING, HOLD_S * 1000, t),
      ),
    );
  } finally {
    sim.stop();
  }

  const mib = (n: number) => n.toFixed(0);
  const statuses = (s: Record<string, number>) =>
    Object.entries(s)
      .map(([code, n]) => `${n}× ${code}`)
      .join(', ') || 'none';
  const report = `# Hostile-client benchmark${args.label ? ` (${args.label})` : ''}

Run: ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}.
Setup: the exporter (\`${args.exporter}\`) in a process of its own against the simulator (seed 1, ${USERS} users${USER_METRICS ? ', per-user series on' : ''}; another process), over loopback. A fresh exporter per probe; RSS of the exporter process: before (ready, 5 scrapes), peak (VmHWM, ${peakSinceStart ? 'since the process started, its refreshes included' : 'while the clients ran'}) and 5 s after the clients left.
Command: \`npm run bench:hostile -- ${process.argv.slice(2).join(' ')}\` (bench/hostile-clients.ts).

| probe | RSS before | RSS peak | RSS after | answers the clients got | connections closed by the exporter | /-/healthy answered meanwhile |
| --- | --- | --- | --- | --- | --- | --- |
${results
  .map(
    (r) =>
      `| ${r.probe} | ${mib(r.before)} MiB | ${mib(r.peak)} MiB | ${mib(r.after)} MiB | ${statuses(r.statuses)} | ${r.closedByServer}/${r.connections} | ${r.healthy} |`,
  )
  .join('\n')}
`;
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const file = `./results/hostile-clients-${SCENARIO}${args.label ? `-${args.label}` : ''}.md`;
  writeFileSync(new URL(file, import.meta.url), report);
  process.stdout.write(report);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
