/**
 * Baseline for bench/bench.ts: a node:http server sending, from memory, the bytes the exporter sent
 * (captured by the benchmark in both formats, with and without gzip), chosen from the request's
 * Accept and Accept-Encoding as the exporter chooses. What serving /metrics can cost at best in Node.
 *
 *   node --import tsx bench/static-server.ts CAPTURE.json   # prints "listening on PORT"
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Capture {
  openMetrics: boolean;
  gzip: boolean;
  file: string;
  contentType: string;
  contentEncoding: string | undefined;
}

const manifest = process.argv[2];
if (manifest === undefined) throw new Error('usage: static-server.ts CAPTURE.json');
const captures = (JSON.parse(readFileSync(manifest, 'utf8')) as Capture[]).map((c) => ({ ...c, body: readFileSync(c.file) }));
const pick = (openMetrics: boolean, gzip: boolean) => {
  const found = captures.find((c) => c.openMetrics === openMetrics && c.gzip === gzip);
  if (found === undefined) throw new Error(`no capture for openMetrics=${openMetrics} gzip=${gzip}`);
  const headers: Record<string, string | number> = { 'content-type': found.contentType, 'content-length': found.body.length };
  if (found.contentEncoding !== undefined) headers['content-encoding'] = found.contentEncoding;
  return { body: found.body, headers };
};
const answers = [pick(false, false), pick(false, true), pick(true, false), pick(true, true)];

const server = createServer((req, res) => {
  if (req.url !== '/metrics') {
    res.writeHead(404).end();
    return;
  }
  const openMetrics = (req.headers.accept ?? '').includes('application/openmetrics-text');
  const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  const answer = answers[(openMetrics ? 2 : 0) + (gzip ? 1 : 0)] as (typeof answers)[number];
  res.writeHead(200, answer.headers).end(answer.body);
});
server.keepAliveTimeout = 75_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on ${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => process.exit(0));
