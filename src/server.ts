import type { ServerOptions as HttpsOptions } from 'node:https';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import Negotiator from 'negotiator';
import type { ServerLimits } from './config/index.js';
import { CONTENT_TYPES, type Format, GzipJoiner, type RenderedChunk, type Variant, variantOf } from './exposition.js';
import type { Logger } from './logger.js';
import type { OwnMetrics } from './own-metrics.js';
import type { Scheduler } from './scheduler.js';
import { renderStatusPage, type StatusPageOptions } from './status-page.js';

export interface AppOptions {
  scheduler: Pick<Scheduler, 'chunks' | 'ready'>;
  ownMetrics: Pick<OwnMetrics, 'renderBytes'>;
  logger: Logger;
  /** What the status page at `/` shows (src/status-page.ts). */
  statusPage: StatusPageOptions;
  /** Timeouts and caps on what clients can hold (HTTP_* settings). */
  limits: ServerLimits;
  /** Serve HTTPS with these options (web-listener.ts); plain HTTP when absent. */
  https?: HttpsOptions;
}

const OPENMETRICS = 'application/openmetrics-text';

/**
 * OpenMetrics when the scraper prefers it (Prometheus does), else the text
 * format. Versions are not compared: we serve OpenMetrics 1.0.0 and text
 * 0.0.4, what every Prometheus since 2.5 reads.
 */
export function negotiateFormat(accept: string | undefined): Format {
  return remembered(formats, accept ?? '*/*', negotiateFormatOnce);
}

function negotiateFormatOnce(accept: string): Format {
  const preferred = new Negotiator({ headers: { accept } }).mediaTypes();
  for (const type of preferred) {
    if (type === OPENMETRICS) return 'openmetrics';
    if (type === 'text/plain' || type === 'text/*' || type === '*/*') return 'text';
  }
  return 'text';
}

export function wantsGzip(acceptEncoding: string | undefined): boolean {
  if (acceptEncoding === undefined) return false;
  return remembered(encodings, acceptEncoding, wantsGzipOnce);
}

function wantsGzipOnce(acceptEncoding: string): boolean {
  return new Negotiator({ headers: { 'accept-encoding': acceptEncoding } }).encoding(['gzip', 'identity']) === 'gzip';
}

/**
 * Answers to the few Accept and Accept-Encoding headers scrapers send, kept:
 * parsing them is a visible part of a scrape's cost. Bounded, since headers
 * come from clients.
 */
const formats = new Map<string, Format>();
const encodings = new Map<string, boolean>();
const REMEMBERED_HEADERS = 64;

function remembered<T>(memo: Map<string, T>, header: string, answer: (header: string) => T): T {
  let value = memo.get(header);
  if (value === undefined) {
    value = answer(header);
    if (memo.size >= REMEMBERED_HEADERS) memo.clear();
    if (header.length <= 1024) memo.set(header, value);
  }
  return value;
}

export function buildApp(options: AppOptions): FastifyInstance {
  const { scheduler, ownMetrics, limits } = options;
  const gzip = new GzipJoiner();
  const smallAnswers = new SmallAnswers();
  const connectionsCheckingInterval = Math.min(30_000, Math.max(100, Math.floor(limits.requestTimeoutMs / 2)));
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // A scrape every few seconds would drown the log; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // Node checks the request and headers timeouts on this interval (30s by default, which would stretch a 10s timeout to 40s).
    // Fastify reads it from `http`, or from `https` when it serves HTTPS (it then ignores `http`).
    ...(options.https === undefined
      ? { http: { connectionsCheckingInterval } }
      : { https: { ...options.https, connectionsCheckingInterval } }),
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // The socket's inactivity timeout while a request is read or answered: a client that stops reading is dropped.
    connectionTimeout: limits.idleTimeoutMs,
  }) as FastifyInstance; // Fastify types an HTTPS app apart; the routes below are the same either way.
  app.server.headersTimeout = limits.requestTimeoutMs;
  // Node closes a connection past this at once: idle sockets held by a client cannot take the descriptors the Admin API client needs.
  app.server.maxConnections = limits.maxConnections;
  const inFlight = new InFlight(limits);

  // Synchronous hooks, and a handler that answers in the same turn when it has nothing to wait for: no promise per scrape.
  // At a thousand series a scrape of the answer kept whole costs little more than Fastify's own steps, and the promises were a visible part of it.
  app.addHook('onRequest', (request, reply, done) => {
    if (inFlight.admit(request, reply) === undefined) done();
  });

  const metricsRoute = {
    onRequest: (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      if (inFlight.admitMetrics(request, reply) === undefined) done();
    },
    // No logger of its own per scrape (a pino child with its redaction, a visible part of a small scrape's cost): the route logs nothing itself,
    // and what Fastify logs of it (errors) goes through the app's logger.
    childLoggerFactory: (logger: FastifyBaseLogger) => logger,
  };

  /** The answer when something must be waited for: a form made for the first time, the process metrics' collection, a join. */
  const answer = async (
    reply: FastifyReply,
    format: Format,
    gzipped: boolean,
    chunks: readonly RenderedChunk[],
    missing: readonly RenderedChunk[],
    ownNow: Buffer | Promise<Buffer> | undefined,
  ): Promise<FastifyReply> => {
    // A form nobody asked for before is made now, once, and from then on with every refresh.
    const variant = variantOf(format, gzipped);
    for (const chunk of missing) await chunk.make(variant);
    const own = await (ownNow ?? ownMetrics.renderBytes(format));
    reply.headers(HEADERS[variant]);
    const small = smallAnswers.get(variant, chunks, own);
    if (small !== undefined) return reply.header('content-length', small.length).send(small);
    // The rendered chunks are shared by every scrape until the next refresh: written as they are, never copied into a body of
    // this scrape's own, so a slow or pipelining client costs its own small tail, not a copy of everything.
    const parts = gzipped ? await gzip.join(chunks, own, format) : [...chunks.map((c) => c.body(format) as Buffer), own];
    let length = 0;
    for (const part of parts) length += part.length;
    reply.header('content-length', length);
    if (length <= SMALL_ANSWER_BYTES) {
      // Joined once and sent whole by every scrape until a chunk or the own metrics change (a stream per scrape costs more than the bytes).
      const body = Buffer.concat(parts, length);
      smallAnswers.set(variant, chunks, own, body);
      return reply.send(body);
    }
    return reply.send(new BufferList(parts));
  };

  app.get('/metrics', metricsRoute, (request, reply) => {
    const format = negotiateFormat(request.headers.accept);
    const gzipped = wantsGzip(request.headers['accept-encoding']);
    const variant = VARIANTS[format][gzipped ? 1 : 0];
    const chunks = scheduler.chunks();
    const kept = smallAnswers.of(variant, chunks);
    // The chunks of the last answer kept in this form have the form, and it is wanted already (a chunk's wanted forms only grow).
    if (kept === undefined) {
      const missing = chunks.filter((chunk) => !chunk.want(variant));
      if (missing.length > 0) return answer(reply, format, gzipped, chunks, missing, undefined);
    }
    const own = ownMetrics.renderBytes(format);
    if (kept === undefined || own !== kept.own) return answer(reply, format, gzipped, chunks, NONE, own);
    // The answer kept whole, and nothing to wait for: sent in this turn.
    reply.headers(HEADERS[variant]).header('content-length', kept.body.length).send(kept.body);
    return undefined;
  });

  app.get('/-/healthy', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('OK\n'));

  app.get('/-/ready', async (_request, reply) => {
    reply.type('text/plain; charset=utf-8');
    if (scheduler.ready()) return reply.send('Ready\n');
    return reply.code(503).send('Not ready: the first refresh of every Admin API endpoint has not ended yet\n');
  });

  app.get('/', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(renderStatusPage(options.statusPage)),
  );

  return app;
}

/** Each form by format and compression, made once (rather than a new string per scrape). */
const VARIANTS: Record<Format, readonly [Variant, Variant]> = {
  text: [variantOf('text', false), variantOf('text', true)],
  openmetrics: [variantOf('openmetrics', false), variantOf('openmetrics', true)],
};

/** The headers of each form of the answer (content-length aside). */
const HEADERS = {} as Record<Variant, Record<string, string>>;
for (const format of ['text', 'openmetrics'] as const) {
  const headers = { 'content-type': CONTENT_TYPES[format], vary: 'Accept, Accept-Encoding', 'cache-control': 'no-store' };
  HEADERS[variantOf(format, false)] = headers;
  HEADERS[variantOf(format, true)] = { ...headers, 'content-encoding': 'gzip' };
}

/**
 * Answers up to this size are kept joined in one buffer (an organization of a
 * few thousand series compressed, a few hundred plain): a copy of them costs
 * less memory than a scrape's stream costs time. Larger ones are written from
 * the chunks' own buffers.
 */
const SMALL_ANSWER_BYTES = 256 * 1024;

const NONE: readonly RenderedChunk[] = [];

/** The last small answer of each form, and what it was made of: the chunks (by id, so none is kept alive) and the own metrics' bytes. */
class SmallAnswers {
  private readonly last = new Map<Variant, SmallAnswer>();

  /** The last answer of `variant` if it was made of these chunks (its own metrics may differ). */
  of(variant: Variant, chunks: readonly RenderedChunk[]): SmallAnswer | undefined {
    const last = this.last.get(variant);
    if (last === undefined || last.ids.length !== chunks.length) return undefined;
    for (let i = 0; i < chunks.length; i++) if (last.ids[i] !== (chunks[i] as RenderedChunk).id) return undefined;
    return last;
  }

  get(variant: Variant, chunks: readonly RenderedChunk[], own: Buffer): Buffer | undefined {
    const last = this.of(variant, chunks);
    return last !== undefined && last.own === own ? last.body : undefined;
  }

  set(variant: Variant, chunks: readonly RenderedChunk[], own: Buffer, body: Buffer): void {
    this.last.set(variant, { ids: chunks.map((c) => c.id), own, body });
  }
}

interface SmallAnswer {
  ids: number[];
  own: Buffer;
  body: Buffer;
}

/**
 * A body written from buffers held elsewhere: all of them offered at once (no
 * copy, no turn of the event loop between them), empty ones left out.
 */
class BufferList extends Readable {
  constructor(private parts: Buffer[] | undefined) {
    super();
  }

  override _read(): void {
    const parts = this.parts;
    this.parts = undefined;
    if (parts) for (const part of parts) if (part.length > 0) this.push(part);
    this.push(null);
  }
}

/** Set on the answer of a /metrics request counted in flight: its close (listened to by `admit`) counts it out. */
const METRICS_ANSWER = Symbol('metricsAnswer');

type Counted = FastifyReply['raw'] & { [METRICS_ANSWER]?: true };

interface Connection {
  /** Requests of the connection not yet answered (or whose answer is still being sent). */
  requests: number;
  /** Of those, /metrics ones. */
  metrics: number;
  /** The connection is past its cap: it is closed after the 503, and what it sends meanwhile is ignored. */
  refused: boolean;
  closed: boolean;
}

/**
 * Counts the answers in flight, per connection and /metrics ones overall, so
 * that no client can pile them up: a connection with more requests waiting
 * than the cap (HTTP/1.1 pipelining) gets 503 and is closed, and /metrics
 * past the overall cap answers 503 at once. A request counts until its
 * answer is sent or its connection closes.
 */
class InFlight {
  /** /metrics answers in flight, all connections together. */
  private metrics = 0;
  private readonly connections = new WeakMap<Socket, Connection>();

  constructor(private readonly limits: ServerLimits) {}

  admit(request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
    const connection = this.connection(request.raw.socket);
    if (connection.refused || connection.closed) {
      // Sent after the refusal, on a connection about to close: no answer at all.
      reply.hijack();
      return reply;
    }
    if (connection.requests >= this.limits.maxRequestsPerConnection) {
      connection.refused = true;
      return reply
        .code(503)
        .header('connection', 'close')
        .type('text/plain; charset=utf-8')
        .send(`Too many requests waiting on one connection (HTTP_MAX_REQUESTS_PER_CONNECTION=${this.limits.maxRequestsPerConnection})\n`);
    }
    connection.requests++;
    // One listener per request, for /metrics too (admitMetrics marks the answer): a listener is a visible part of a small scrape's cost.
    const answer = reply.raw as Counted;
    answer.once('close', () => {
      if (connection.closed) return;
      connection.requests--;
      if (answer[METRICS_ANSWER] === true) {
        connection.metrics--;
        this.metrics--;
      }
    });
    return undefined;
  }

  admitMetrics(request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
    if (this.metrics >= this.limits.maxMetricsInFlight) {
      return reply
        .code(503)
        .header('retry-after', '1')
        .type('text/plain; charset=utf-8')
        .send(`Too many /metrics answers in flight (HTTP_MAX_METRICS_IN_FLIGHT=${this.limits.maxMetricsInFlight}); try again\n`);
    }
    const connection = this.connection(request.raw.socket);
    connection.metrics++;
    this.metrics++;
    (reply.raw as Counted)[METRICS_ANSWER] = true;
    return undefined;
  }

  private connection(socket: Socket): Connection {
    let connection = this.connections.get(socket);
    if (connection === undefined) {
      const created: Connection = { requests: 0, metrics: 0, refused: false, closed: false };
      // Answers queued behind others on a closed connection may never emit their own 'close': the connection's does for them.
      socket.once('close', () => {
        created.closed = true;
        this.metrics -= created.metrics;
        created.metrics = 0;
        created.requests = 0;
      });
      this.connections.set(socket, created);
      connection = created;
    }
    return connection;
  }
}
