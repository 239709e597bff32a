/**
 * A loopback front for the soak benchmark: forwards each GET to one of
 * several simulators (organizations of other seeds and sizes, taken in turn
 * from one generation to the next) and rewrites the JSON answers so that
 * things come and go without end: in each generation, about half the model
 * names and half the ids (users, agents, workspaces, API keys, audit
 * entries: every UUID) are renamed after the generation, the other half stay.
 * Within a generation every answer is renamed alike, so the answers of one
 * refresh agree with each other.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type { Simulator } from '../src/simulator/index.js';

const UUID = /^[0-9a-f]{8}(-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** A stable 1-bit hash of a string: whether it is renamed in odd or in even generations. */
function parity(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h & 1;
}

/** The name of a model or id in generation `g`: renamed in every other generation, half of them at a time. */
function renamed(s: string, g: number, models: ReadonlySet<string>): string {
  if (models.has(s)) return parity(s) === g % 2 ? `${s}-g${g}` : s;
  const at = s.indexOf('::');
  if (at > 0) return `${renamed(s.slice(0, at), g, models)}::${renamed(s.slice(at + 2), g, models)}`;
  const m = UUID.exec(s);
  if (m && parity(s) === g % 2) return `${g.toString(16).padStart(8, '0')}${m[1]}`;
  return s;
}

function rewrite(v: unknown, g: number, models: ReadonlySet<string>): unknown {
  if (typeof v === 'string') return renamed(v, g, models);
  if (Array.isArray(v)) return v.map((x) => rewrite(x, g, models));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[renamed(k, g, models)] = rewrite(x, g, models);
    return out;
  }
  return v;
}

/** The model names the simulators serve: usage's billing metrics and model keys, rate-limit's keys. */
function modelNames(sims: readonly Simulator[]): Set<string> {
  const names = new Set<string>();
  const walk = (v: unknown, underModels: boolean): void => {
    if (Array.isArray(v)) for (const x of v) walk(x, false);
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (underModels) for (const part of k.split('::')) names.add(part);
        if (k === 'billing_metric' && typeof x === 'string') names.add(x);
        walk(x, k === 'models' || k === 'tokens_limits_by_model');
      }
    }
  };
  for (const sim of sims) {
    walk(sim.bodyFor('usage'), false);
    walk(sim.bodyFor('rate_limit'), false);
  }
  return names;
}

export interface ChurnFront {
  /** The base URL to give the exporter, e.g. http://127.0.0.1:PORT/api/admin */
  url: string;
  close(): Promise<void>;
}

/** Starts the front; `generation()` says which simulator answers and how names are rewritten. */
export async function startChurnFront(sims: readonly Simulator[], generation: () => number): Promise<ChurnFront> {
  const models = modelNames(sims);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    const g = generation();
    const sim = sims[g % sims.length] as Simulator;
    const upstream = new URL(sim.url);
    const headers: Record<string, string> = {};
    for (const h of ['authorization', 'x-api-key', 'accept']) {
      const value = req.headers[h];
      if (typeof value === 'string') headers[h] = value;
    }
    const answer = await request(`${upstream.origin}${req.url ?? '/'}`, { headers });
    const text = await answer.body.text();
    const type = String(answer.headers['content-type'] ?? 'application/json');
    let body = text;
    if (answer.statusCode === 200 && type.includes('json')) body = JSON.stringify(rewrite(JSON.parse(text), g, models));
    res.writeHead(answer.statusCode, { 'content-type': type }).end(body);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(502, { 'content-type': 'text/plain' }).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const basePath = new URL(sims[0]?.url ?? 'http://x/api/admin').pathname;
  return {
    url: `http://127.0.0.1:${port}${basePath}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
