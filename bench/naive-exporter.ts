/**
 * Baseline for bench/bench.ts: how an exporter is commonly written with prom-client: the series in
 * a Registry of gauges, `register.metrics()` rendered at every scrape, text format, no compression.
 * It holds the series the exporter served (its text exposition, captured by the benchmark, parsed
 * into one gauge per sample name).
 *
 *   node --import tsx bench/naive-exporter.ts EXPOSITION.txt   # prints "listening on PORT"
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';

interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Label pairs of a sample line from just after its `{`; returns them and the index after the `}`. */
function parseLabels(line: string, from: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = from;
  while (line[i] !== '}') {
    const eq = line.indexOf('=', i);
    const name = line.slice(i, eq).trim();
    i = eq + 2; // past ="
    let value = '';
    while (line[i] !== '"') {
      if (line[i] === '\\') {
        const next = line[i + 1];
        value += next === 'n' ? '\n' : next;
        i += 2;
      } else value += line[i++];
    }
    labels[name] = value;
    i++; // past the closing quote
    if (line[i] === ',') i++;
  }
  return [labels, i + 1];
}

/** Samples by sample name, and the HELP of each family, from a text exposition (format 0.0.4). */
export function parseExposition(text: string): { samples: Map<string, Sample[]>; help: Map<string, string> } {
  const samples = new Map<string, Sample[]>();
  const help = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      const space = line.indexOf(' ', 7);
      help.set(line.slice(7, space), line.slice(space + 1));
      continue;
    }
    if (line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    let name: string;
    let labels: Record<string, string> = {};
    let rest: number;
    if (brace >= 0 && brace < space) {
      name = line.slice(0, brace);
      [labels, rest] = parseLabels(line, brace + 1);
    } else {
      name = line.slice(0, space);
      rest = space;
    }
    const value = Number(line.slice(rest).trim().split(' ')[0]);
    let list = samples.get(name);
    if (list === undefined) samples.set(name, (list = []));
    list.push({ labels, value });
  }
  return { samples, help };
}

/** The help of the family a sample name belongs to (a counter's `_total`, a histogram's `_bucket`...). */
function helpOf(help: Map<string, string>, name: string): string {
  for (const suffix of ['', '_total', '_bucket', '_sum', '_count', '_created', '_info']) {
    if (suffix === '' || name.endsWith(suffix)) {
      const found = help.get(suffix === '' ? name : name.slice(0, -suffix.length));
      if (found !== undefined) return found;
    }
  }
  return name;
}

const file = process.argv[2];
if (file === undefined) throw new Error('usage: naive-exporter.ts EXPOSITION.txt');
const { samples, help } = parseExposition(readFileSync(file, 'utf8'));
const register = new Registry();
for (const [name, list] of samples) {
  const labelNames = [...new Set(list.flatMap((s) => Object.keys(s.labels)))];
  const gauge = new Gauge({ name, help: helpOf(help, name), labelNames, registers: [register] });
  for (const s of list) gauge.set(s.labels, s.value);
}

const server = createServer((req, res) => {
  if (req.url !== '/metrics') {
    res.writeHead(404).end();
    return;
  }
  register.metrics().then(
    (body) => res.writeHead(200, { 'content-type': register.contentType }).end(body),
    (err: unknown) => res.writeHead(500).end(String(err)),
  );
});
server.keepAliveTimeout = 75_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on ${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => process.exit(0));
