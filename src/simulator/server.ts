/**
 * The HTTP front of the simulator: routing, auth, method checks, request
 * recording and fault injection. What a body contains is `handlers.ts`'s job.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import type { Fault, FaultQueue } from './faults.js';
import type { Answer, Query, QueryLists } from './handlers.js';
import type { SimEndpoint } from './routes.js';

export interface RecordedRequest {
  method: string;
  /** The full request path, base path included, without the query string. */
  path: string;
  query: Record<string, string>;
  /** Every value of each query parameter, in order (a repeated one, e.g. `event_type`, has several). */
  lists: Record<string, string[]>;
  headers: Record<string, string | string[] | undefined>;
  endpoint?: SimEndpoint;
  /** The status answered; 0 while unanswered, and for hung or reset requests. */
  status: number;
}

export interface HttpFrontOptions {
  readonly host: string;
  readonly port: number;
  readonly basePath: string;
  readonly routes: ReadonlyMap<string, SimEndpoint>;
  readonly apiKey: string | undefined;
  readonly faults: FaultQueue;
  readonly requests: RecordedRequest[];
  /** Whether to push each request onto `requests` (false: the list stays empty). */
  readonly record: boolean;
  readonly answer: (endpoint: SimEndpoint, query: Query, lists: QueryLists) => Answer;
}

export interface HttpFront {
  readonly url: string;
  close(): Promise<void>;
}

const JSON_HEADERS = { 'content-type': 'application/json' } as const;
const HUGE_CHUNK_BYTES = 64 * 1024;
/** Depth of the `deep-nesting` answer: far beyond any recursion a parser could survive. */
const DEEP_NESTING = 200_000;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function keyMatches(candidate: string | undefined, expected: Buffer): boolean {
  return candidate !== undefined && timingSafeEqual(digest(candidate), expected);
}

/** The key a request carried: x-api-key, else the bearer token. */
function sentKey(headers: IncomingMessage['headers']): string | undefined {
  const headerKey = headers['x-api-key'];
  const key = Array.isArray(headerKey) ? headerKey[0] : headerKey;
  return key ?? /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1]?.trim();
}

function isAuthorised(req: IncomingMessage, expected: Buffer): boolean {
  const headerKey = req.headers['x-api-key'];
  if (keyMatches(Array.isArray(headerKey) ? headerKey[0] : headerKey, expected)) return true;
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return keyMatches(bearer?.[1]?.trim(), expected);
}

function sendText(res: ServerResponse, record: RecordedRequest, status: number, text: string, headers: Record<string, string> = {}): void {
  record.status = status;
  if (res.destroyed) return;
  res.writeHead(status, { ...JSON_HEADERS, 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

function sendJson(res: ServerResponse, record: RecordedRequest, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, record, status, JSON.stringify(body), headers);
}

/** A valid JSON object of about `bytes` bytes, streamed without a content-length. */
function sendHuge(res: ServerResponse, record: RecordedRequest, bytes: number): void {
  record.status = 200;
  res.writeHead(200, JSON_HEADERS);
  const head = '{"data":[],"padding":"';
  const tail = '"}';
  let remaining = Math.max(0, bytes - head.length - tail.length);
  const filler = 'x'.repeat(HUGE_CHUNK_BYTES);
  const pump = (): void => {
    while (!res.destroyed) {
      if (remaining <= 0) {
        res.end(tail);
        return;
      }
      const size = Math.min(remaining, HUGE_CHUNK_BYTES);
      remaining -= size;
      if (!res.write(size === HUGE_CHUNK_BYTES ? filler : filler.slice(0, size))) {
        res.once('drain', pump);
        return;
      }
    }
  };
  res.write(head);
  pump();
}

export function startHttpFront(options: HttpFrontOptions): Promise<HttpFront> {
  const expectedKey = options.apiKey === undefined ? undefined : digest(options.apiKey);
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closed: Promise<void> | undefined;

  const normalText = (endpoint: SimEndpoint, query: Query, lists: QueryLists): string =>
    JSON.stringify(options.answer(endpoint, query, lists).body);

  const answerNormally = (res: ServerResponse, record: RecordedRequest, endpoint: SimEndpoint, query: Query, lists: QueryLists): void => {
    try {
      const { status, body } = options.answer(endpoint, query, lists);
      sendJson(res, record, status, body);
    } catch (error) {
      sendJson(res, record, 500, { detail: `simulator error: ${error instanceof Error ? error.message : String(error)}` });
    }
  };

  const applyFault = (
    fault: Fault,
    res: ServerResponse,
    record: RecordedRequest,
    endpoint: SimEndpoint,
    query: Query,
    lists: QueryLists,
  ): void => {
    switch (fault.kind) {
      case 'status': {
        const body = fault.body === undefined ? { detail: STATUS_CODES[fault.status] ?? 'Error' } : fault.body;
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        if (fault.encoding === undefined) {
          sendText(res, record, fault.status, text, fault.headers);
          return;
        }
        const compressed = fault.encoding === 'gzip' ? gzipSync(text) : brotliCompressSync(text);
        record.status = fault.status;
        if (res.destroyed) return;
        res.writeHead(fault.status, {
          ...JSON_HEADERS,
          'content-encoding': fault.encoding,
          'content-length': String(compressed.length),
          ...fault.headers,
        });
        res.end(compressed);
        return;
      }
      case 'echo-key': {
        const key = sentKey(record.headers) ?? '';
        const text = fault.body
          .replaceAll('{key:json}', JSON.stringify(key).slice(1, -1))
          .replaceAll('{key:url}', encodeURIComponent(key))
          .replaceAll('{key}', key);
        sendText(res, record, fault.status, text, fault.headers);
        return;
      }
      case 'delay': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          answerNormally(res, record, endpoint, query, lists);
        }, fault.ms);
        timers.add(timer);
        return;
      }
      case 'hang':
        return; // the socket stays open until the client gives up or close() runs
      case 'reset':
        res.socket?.resetAndDestroy();
        return;
      case 'huge':
        sendHuge(res, record, fault.bytes);
        return;
      case 'malformed':
        switch (fault.variant) {
          case 'truncated-json': {
            const text = normalText(endpoint, query, lists);
            sendText(res, record, 200, text.slice(0, Math.max(1, Math.floor(text.length / 2))));
            return;
          }
          case 'not-json':
            sendText(res, record, 200, '<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>', {
              'content-type': 'text/html',
            });
            return;
          case 'wrong-shape':
            sendJson(res, record, 200, { unexpected: true, data: 'not-a-list', items: [1, 2, 3] });
            return;
          case 'empty':
            sendText(res, record, 200, '');
            return;
          case 'deep-nesting':
            sendText(res, record, 200, `${'['.repeat(DEEP_NESTING)}${']'.repeat(DEEP_NESTING)}`);
            return;
        }
        return;
      case 'cut': {
        const text = normalText(endpoint, query, lists);
        record.status = 200;
        res.writeHead(200, { ...JSON_HEADERS, 'content-length': String(Buffer.byteLength(text)) });
        res.write(text.slice(0, Math.floor(text.length / 2)), () => res.socket?.resetAndDestroy());
        return;
      }
      case 'silence': {
        const text = normalText(endpoint, query, lists);
        record.status = 200;
        res.writeHead(200, { ...JSON_HEADERS, 'content-length': String(Buffer.byteLength(text)) });
        res.flushHeaders();
        return; // no body: the socket stays open until the client gives up or close() runs
      }
      case 'trickle': {
        const bytes = Buffer.from(normalText(endpoint, query, lists));
        record.status = 200;
        res.writeHead(200, { ...JSON_HEADERS, 'content-length': String(bytes.length) });
        let sent = 0;
        const timer = setInterval(() => {
          if (res.destroyed || sent >= bytes.length) {
            clearInterval(timer);
            timers.delete(timer);
            if (!res.destroyed) res.end();
            return;
          }
          res.write(bytes.subarray(sent, sent + 1));
          sent += 1;
        }, fault.everyMs);
        timers.add(timer);
        return;
      }
    }
  };

  const server = createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://simulator.invalid');
    } catch {
      res.writeHead(400, JSON_HEADERS).end(JSON.stringify({ detail: 'Bad Request' }));
      return;
    }
    const query: Record<string, string> = {};
    const lists: Record<string, string[]> = {};
    for (const [name, value] of url.searchParams) {
      if (!(name in query)) query[name] = value;
      (lists[name] ??= []).push(value);
    }
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      lists,
      headers: { ...req.headers },
      status: 0,
    };
    const prefix = `${options.basePath}/`;
    const endpoint = url.pathname.startsWith(prefix) ? options.routes.get(url.pathname.slice(prefix.length)) : undefined;
    if (endpoint) record.endpoint = endpoint;
    if (options.record) options.requests.push(record);
    req.resume(); // a request body, if any, is ignored

    if (expectedKey && !isAuthorised(req, expectedKey)) return sendJson(res, record, 401, { detail: 'Unauthorized' });
    if (!endpoint) return sendJson(res, record, 404, { detail: 'Not Found' });
    if (record.method !== 'GET') return sendJson(res, record, 405, { detail: 'Method Not Allowed' }, { allow: 'GET' });
    const fault = options.faults.take(endpoint);
    if (fault) return applyFault(fault, res, record, endpoint, query, lists);
    answerNormally(res, record, endpoint, query, lists);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      resolve({
        url: `http://${host}:${port}${options.basePath}`,
        close: () => {
          if (closed !== undefined) return closed;
          for (const timer of timers) clearTimeout(timer);
          timers.clear();
          closed = new Promise<void>((done) => server.close(() => done()));
          server.closeAllConnections();
          for (const socket of sockets) socket.destroy();
          return closed;
        },
      });
    });
  });
}
