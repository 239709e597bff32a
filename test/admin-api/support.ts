import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { AdminApiClient, type AdminApiClientOptions } from '../../src/admin-api/client.js';
import { AdminApiError, type ClientObserver, type RetryReason } from '../../src/admin-api/types.js';
import type { ApiEndpoint } from '../../src/endpoints.js';
import { Secret } from '../../src/secret.js';
import { captureLogs } from '../support/logs.js';
import { ManualClock } from '../support/manual-clock.js';

export interface SeenRequest {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
}

export type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => unknown;

/**
 * Listens on a free loopback port and keeps the open sockets (plus any
 * added to `sockets`), so that `close()` ends hanging ones too. Counts the
 * connections accepted and those still open.
 */
async function listenOnLoopback(
  server: Server,
  sockets: Set<Socket>,
): Promise<{ port: number; url: string; connections: () => number; openConnections: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  let open = 0;
  server.on('connection', (s) => {
    accepted++;
    open++;
    sockets.add(s);
    s.on('close', () => {
      open--;
      sockets.delete(s);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connections: () => accepted,
    openConnections: () => open,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A real HTTP server on 127.0.0.1, port 0, answering as the test scripts it.
 * `n` counts requests from 0. It records every request and the most that
 * were in flight at once, and counts connections (accepted, still open).
 * `keepAliveTimeoutMs` sets how long the server keeps an idle connection
 * (Node's default is 5 s; 0 keeps it until the client or `close()` ends it).
 */
export async function startServer(
  handler: Handler,
  options: { keepAliveTimeoutMs?: number } = {},
): Promise<{
  url: string;
  port: number;
  requests: SeenRequest[];
  inFlight: () => number;
  maxInFlight: () => number;
  /** Connections accepted so far. */
  connections: () => number;
  /** Connections not yet closed (by either side). */
  openConnections: () => number;
  close: () => Promise<void>;
}> {
  const requests: SeenRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push({ method: req.method ?? '', url: req.url ?? '', path: u.pathname, query: u.searchParams, headers: req.headers });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      inFlight--;
    };
    res.on('close', end);
    void Promise.resolve(handler(req, res, requests.length - 1)).catch((err: unknown) => {
      res.destroy(err as Error);
    });
  });
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  const { port, url, connections, openConnections, close } = await listenOnLoopback(server, sockets);
  return { url, port, requests, inFlight: () => inFlight, maxInFlight: () => maxInFlight, connections, openConnections, close };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Resolves when `check` holds, polling the real event loop (no time is asserted). */
export async function until(check: () => boolean, what = 'condition', timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export class RecordingObserver implements ClientObserver {
  readonly requests: Array<[ApiEndpoint, string]> = [];
  readonly retries: Array<[ApiEndpoint, RetryReason]> = [];
  readonly paths: Array<[ApiEndpoint, string]> = [];

  request(endpoint: ApiEndpoint, code: string): void {
    this.requests.push([endpoint, code]);
  }
  retry(endpoint: ApiEndpoint, reason: RetryReason): void {
    this.retries.push([endpoint, reason]);
  }
  pathInUse(endpoint: ApiEndpoint, path: string): void {
    this.paths.push([endpoint, path]);
  }
  codes(): string[] {
    return this.requests.map(([, c]) => c);
  }
  reasons(): RetryReason[] {
    return this.retries.map(([, r]) => r);
  }
}

export const CANARY = 'sk-CANARY-7f3a9c2e-d0n0t-l34k';

/** A client against `baseUrl` with a manual clock, a recording observer and captured debug logs. */
export function makeClient(baseUrl: string, overrides: Partial<AdminApiClientOptions> = {}) {
  const clock = (overrides.clock as ManualClock | undefined) ?? new ManualClock();
  const observer = new RecordingObserver();
  const logs = captureLogs({ level: 'debug' });
  const client = new AdminApiClient({
    baseUrl,
    apiKey: new Secret(CANARY),
    pathLayout: 'auto',
    requestTimeoutMs: 5_000,
    maxResponseBytes: 1 << 20,
    maxConcurrency: 4,
    retry: { maxRetries: 3, baseDelayMs: 1_000, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 },
    random: () => 1,
    logger: logs.logger,
    observer,
    userAgent: 'mistral-admin-exporter/test',
    ...overrides,
    clock,
  });
  return { client, clock, observer, logs };
}

/** The AdminApiError a promise rejects with (fails the test if it resolves or rejects with something else). */
export async function failure(promise: Promise<unknown>): Promise<AdminApiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AdminApiError) return err;
    throw new Error(`expected an AdminApiError, got ${String(err)}`);
  }
  throw new Error('expected the call to fail, it succeeded');
}

/**
 * A plain-HTTP forward proxy that records what goes through it: CONNECT
 * tunnels (what undici's ProxyAgent uses by default) and absolute-URI requests.
 */
export async function startProxy(): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '');
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? '').split(':');
    const upstream = netConnect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  const { url, close } = await listenOnLoopback(server, sockets);
  return { url, seen, close };
}

const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'] as const;

/** Runs `fn` with exactly the proxy variables given (others unset), restoring the environment after. */
export async function withProxyEnv<T>(vars: Partial<Record<(typeof PROXY_VARS)[number], string>>, fn: () => Promise<T>): Promise<T> {
  const saved = new Map(PROXY_VARS.map((k) => [k, process.env[k]]));
  for (const k of PROXY_VARS) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Unsets the proxy variables for a test file (so the default agent goes direct), returning a restore function. */
export function clearProxyEnv(): () => void {
  const saved = new Map(PROXY_VARS.map((k) => [k, process.env[k]]));
  for (const k of PROXY_VARS) delete process.env[k];
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
