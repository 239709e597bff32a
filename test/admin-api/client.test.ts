import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dispatcherOptions, ReadOnlyViolationError } from '../../src/admin-api/client.js';
import type { AdminApiError } from '../../src/admin-api/types.js';
import { pathCandidates } from '../../src/endpoints.js';
import { ManualClock } from '../support/manual-clock.js';
import { CANARY, clearProxyEnv, failure, json, makeClient, startServer, until } from './support.js';

type TestServer = Awaited<ReturnType<typeof startServer>>;

let restoreEnv: () => void;
beforeAll(() => {
  restoreEnv = clearProxyEnv();
});
afterAll(() => restoreEnv());

// Everything a test opens, closed after it whatever happened.
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args);
  cleanups.push(() => s.close());
  return s;
}

function client(base: string, overrides: Parameters<typeof makeClient>[1] = {}) {
  const made = makeClient(base, overrides);
  cleanups.push(() => made.client.close());
  return made;
}

const ok = (res: ServerResponse) => json(res, 200, { ok: true });

/** A handler that answers 200 with `pieces` written one after the other, 20 ms apart (each read by the client as a piece of its own). */
const inPieces =
  (pieces: readonly Buffer[]) =>
  (_req: unknown, res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const left = [...pieces];
    const next = () => {
      const piece = left.shift();
      if (piece === undefined) return void res.end();
      res.write(piece, () => setTimeout(next, 20));
    };
    next();
  };

describe('requests', () => {
  it('sends a GET with both auth headers, Accept and User-Agent, under the base path', async () => {
    const s = await server((_req, res) => ok(res));
    const { client: c } = client(`${s.url}/api/admin`);
    const answer = await c.get('spend_limit');
    expect(answer).toEqual({ body: { ok: true }, status: 200, path: 'spend-limit' });
    expect(s.requests).toHaveLength(1);
    const [req] = s.requests;
    expect(req?.method).toBe('GET');
    expect(req?.path).toBe('/api/admin/spend-limit');
    expect(req?.headers['x-api-key']).toBe(CANARY);
    expect(req?.headers.authorization).toBe(`Bearer ${CANARY}`);
    expect(req?.headers.accept).toBe('application/json');
    expect(req?.headers['user-agent']).toBe('mistral-admin-exporter/test');
  });

  it('tolerates a trailing slash on the base URL', async () => {
    const s = await server((_req, res) => ok(res));
    const { client: c } = client(`${s.url}/api/admin/`);
    await c.get('rate_limit');
    expect(s.requests[0]?.path).toBe('/api/admin/rate-limit');
  });

  it('builds the query string from options.query, skipping undefined values', async () => {
    const s = await server((_req, res) => ok(res));
    const { client: c } = client(`${s.url}/api/admin`);
    await c.get('usage', { query: { month: 5, year: 2026, workspace_id: undefined, note: 'a b&c' } });
    const q = s.requests[0]?.query;
    expect(q?.get('month')).toBe('5');
    expect(q?.get('year')).toBe('2026');
    expect(q?.get('note')).toBe('a b&c');
    expect(q?.has('workspace_id')).toBe(false);
    expect([...(q?.keys() ?? [])]).toEqual(['month', 'year', 'note']);
  });

  it('reports every HTTP request to the observer with its status code', async () => {
    const s = await server((_req, res, n) => (n === 0 ? json(res, 500, { detail: 'boom' }) : ok(res)));
    const clock = new ManualClock();
    clock.autoAdvance();
    const { client: c, observer } = client(s.url, { clock });
    await c.get('usage');
    expect(observer.requests).toEqual([
      ['usage', '500'],
      ['usage', '200'],
    ]);
  });
});

describe('GET only', () => {
  /**
   * The client cannot be asked for anything but a GET: its one request
   * hard-codes the method, and GetOptions holds only `query` and `signal`. So
   * the guard is reached through the dispatcher the client composes: a real
   * Agent, passed in, keeps what is composed over it and lists every request
   * that enters it (outermost, above the client's interceptors).
   */
  class KeepsComposed extends Agent {
    readonly composed: Dispatcher.ComposedDispatcher[] = [];
    readonly entered: string[] = [];

    override compose(
      ...args: [Dispatcher.DispatcherComposeInterceptor[]] | Dispatcher.DispatcherComposeInterceptor[]
    ): Dispatcher.ComposedDispatcher {
      const interceptors = (Array.isArray(args[0]) ? args[0] : args) as Dispatcher.DispatcherComposeInterceptor[];
      const entering: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
        this.entered.push(`${opts.method} ${opts.path}`);
        return dispatch(opts, handler);
      };
      const composed = super.compose(...interceptors, entering);
      this.composed.push(composed);
      return composed;
    }
  }

  it('what the client composes over a dispatcher passed in carries its GETs and refuses a POST before connecting', async () => {
    const s = await server((_req, res) => ok(res));
    const agent = new KeepsComposed();
    cleanups.push(() => agent.close());
    const { client: c } = client(s.url, { dispatcher: agent });
    expect(agent.composed).toHaveLength(1);
    const guarded = agent.composed[0] as Dispatcher;
    const refused: unknown = await guarded
      .request({ origin: s.url, path: '/spend-limit', method: 'POST', body: '{"monthly_limit": 0}' })
      .then(
        () => 'sent',
        (err: unknown) => err,
      );
    expect(refused).toBeInstanceOf(ReadOnlyViolationError);
    expect((refused as Error).message).toBe('refused to send POST: the exporter only ever reads the Admin API');
    // Nothing reached the server, not even a connection.
    expect([s.requests.length, s.connections()]).toEqual([0, 0]);
    // The client's own request goes through the same composed dispatcher, and arrives.
    await expect(c.get('spend_limit')).resolves.toMatchObject({ status: 200 });
    expect(agent.entered).toEqual(['POST /spend-limit', 'GET /spend-limit']);
    expect(s.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /spend-limit']);
  });
});

describe('retries and backoff', () => {
  it('retries 5xx with exponential backoff, capped, full jitter at its maximum (random = 1)', async () => {
    const s = await server((_req, res) => json(res, 503, { detail: 'unavailable' }));
    const clock = new ManualClock();
    clock.autoAdvance();
    const {
      client: c,
      observer,
      logs,
    } = client(s.url, {
      clock,
      retry: { maxRetries: 4, baseDelayMs: 100, maxDelayMs: 300, maxRetryAfterMs: 60_000 },
    });
    const start = clock.now();
    const err = await failure(c.get('usage'));
    expect(err.kind).toBe('http');
    expect(err.status).toBe(503);
    expect(s.requests).toHaveLength(5);
    expect(observer.reasons()).toEqual(['5xx', '5xx', '5xx', '5xx']);
    const retryLines = logs.lines().filter((l) => l.msg.includes('retrying'));
    expect(retryLines.map((l) => l.wait_ms)).toEqual([100, 200, 300, 300]);
    expect(retryLines.map((l) => l.attempt)).toEqual([2, 3, 4, 5]);
    expect(retryLines.every((l) => l.level === 'debug' && l.api_endpoint === 'usage' && l.reason === '5xx')).toBe(true);
    expect(clock.now() - start).toBe(900);
  });

  it('jitters: the wait is the exponential delay times random()', async () => {
    const s = await server((_req, res, n) => (n < 2 ? json(res, 502, {}) : ok(res)));
    const clock = new ManualClock();
    const { client: c } = client(s.url, {
      clock,
      random: () => 0.25,
      retry: { maxRetries: 3, baseDelayMs: 1_000, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 },
    });
    const call = c.get('usage');
    await clock.waitForTimer();
    expect(clock.pending()).toEqual([250]);
    await clock.advance(250);
    await until(() => clock.pending().length > 0, 'second backoff');
    expect(clock.pending()).toEqual([500]);
    await clock.advance(500);
    await expect(call).resolves.toMatchObject({ status: 200 });
  });

  it('honours Retry-After in seconds: the clock advances by exactly that', async () => {
    const s = await server((_req, res, n) => (n === 0 ? json(res, 429, {}, { 'retry-after': '7' }) : ok(res)));
    const clock = new ManualClock();
    const { client: c, observer } = client(s.url, { clock });
    const start = clock.now();
    const call = c.get('usage');
    await clock.waitForTimer();
    expect(clock.pending()).toEqual([7_000]);
    await clock.advance(7_000);
    await expect(call).resolves.toMatchObject({ status: 200 });
    expect(clock.now() - start).toBe(7_000);
    expect(observer.reasons()).toEqual(['429']);
    expect(observer.codes()).toEqual(['429', '200']);
  });

  it('honours Retry-After as an HTTP date, relative to clock.now()', async () => {
    const clock = new ManualClock();
    const s = await server((_req, res, n) =>
      n === 0 ? json(res, 429, {}, { 'retry-after': new Date(clock.now() + 12_000).toUTCString() }) : ok(res),
    );
    const { client: c } = client(s.url, { clock });
    const call = c.get('usage');
    await clock.waitForTimer();
    expect(clock.pending()).toEqual([12_000]);
    await clock.advance(12_000);
    await expect(call).resolves.toMatchObject({ status: 200 });
  });

  it('fails at once with rate_limited when Retry-After is longer than the client may wait', async () => {
    const s = await server((_req, res) => json(res, 429, {}, { 'retry-after': '3600' }));
    const clock = new ManualClock();
    const { client: c, observer } = client(s.url, { clock });
    const start = clock.now();
    const err = await failure(c.get('usage'));
    expect(err.kind).toBe('rate_limited');
    expect(err.details.retryAfterMs).toBe(3_600_000);
    expect(err.status).toBe(429);
    expect(s.requests).toHaveLength(1);
    expect(observer.retries).toEqual([]);
    expect(clock.now()).toBe(start);
    expect(clock.pending()).toEqual([]);
  });

  it('a 429 without Retry-After backs off, and is rate_limited when the retries run out', async () => {
    const s = await server((_req, res) => json(res, 429, { message: 'slow down' }));
    const clock = new ManualClock();
    clock.autoAdvance();
    const { client: c, observer } = client(s.url, {
      clock,
      retry: { maxRetries: 2, baseDelayMs: 1_000, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 },
    });
    const start = clock.now();
    const err = await failure(c.get('usage'));
    expect(err.kind).toBe('rate_limited');
    expect(err.details.retryAfterMs).toBeUndefined();
    expect(observer.reasons()).toEqual(['429', '429']);
    expect(clock.now() - start).toBe(3_000);
  });

  it('retries a reset connection (reason network) and then succeeds', async () => {
    const s = await server((req, res, n) => (n === 0 ? req.socket.destroy() : ok(res)));
    const clock = new ManualClock();
    clock.autoAdvance();
    const { client: c, observer } = client(s.url, { clock });
    await expect(c.get('usage')).resolves.toMatchObject({ status: 200 });
    expect(observer.reasons()).toEqual(['network']);
    expect(observer.codes()).toEqual(['error', '200']);
  });

  it('fails with kind network after the retries when nothing listens', async () => {
    const s = await startServer((_req, res) => ok(res));
    const url = s.url;
    await s.close();
    const clock = new ManualClock();
    clock.autoAdvance();
    const { client: c, observer } = client(url, {
      clock,
      retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 10, maxRetryAfterMs: 60_000 },
    });
    const err = await failure(c.get('usage'));
    expect(err.kind).toBe('network');
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(observer.codes()).toEqual(['error', 'error']);
    expect(observer.reasons()).toEqual(['network']);
  });
});

describe('network errors no retry can heal', () => {
  /** A real undici Agent whose connector fails as a TLS or DNS failure does, with the error's code. */
  function failingAgent(code: string, message: string): Agent {
    const agent = new Agent({ connect: (_options, callback) => callback(Object.assign(new Error(message), { code }), null) });
    cleanups.push(() => agent.close());
    return agent;
  }

  it.each([
    ['CERT_HAS_EXPIRED', 'certificate has expired'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"],
  ])('a certificate that does not verify (%s) fails at once with its code, not retried', async (code, message) => {
    const { client: c, observer } = client('https://admin.example.invalid/api/admin', { dispatcher: failingAgent(code, message) });
    const err = await failure(c.get('spend_limit'));
    expect(err).toMatchObject({ kind: 'network', details: { code } });
    expect(err.message).toContain(code);
    expect(observer.codes()).toEqual(['error']);
    expect(observer.reasons()).toEqual([]);
  });

  it('a host name DNS does not know is retried by default, and reported at once when failFast says so', async () => {
    const clock = new ManualClock();
    clock.autoAdvance();
    const dispatcher = failingAgent('ENOTFOUND', 'getaddrinfo ENOTFOUND admin.example.invalid');
    const retry = { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 10, maxRetryAfterMs: 60_000 };
    const normal = client('https://admin.example.invalid/api/admin', { clock, dispatcher, retry });
    expect(await failure(normal.client.get('spend_limit'))).toMatchObject({ kind: 'network', details: { code: 'ENOTFOUND' } });
    expect(normal.observer.reasons()).toEqual(['network']);

    const fast = client('https://admin.example.invalid/api/admin', { clock, dispatcher, retry, failFast: (code) => code === 'ENOTFOUND' });
    expect(await failure(fast.client.get('spend_limit'))).toMatchObject({ kind: 'network', details: { code: 'ENOTFOUND' } });
    expect(fast.observer.codes()).toEqual(['error']);
    expect(fast.observer.reasons()).toEqual([]);
  });
});

describe('timeouts', () => {
  it('a server that never answers times out each attempt, is retried (timeout), then fails with kind timeout', async () => {
    const s = await server(() => undefined); // never answers
    const clock = new ManualClock();
    clock.autoAdvance();
    const { client: c, observer } = client(s.url, {
      clock,
      requestTimeoutMs: 200,
      retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 10, maxRetryAfterMs: 60_000 },
    });
    const err = await failure(c.get('usage'));
    expect(err.kind).toBe('timeout');
    expect(err.message).toMatch(/no answer/);
    expect(s.requests).toHaveLength(2);
    expect(observer.reasons()).toEqual(['timeout']);
    expect(observer.codes()).toEqual(['error', 'error']);
  });

  it('a body that stalls between chunks times out', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"limits": ');
    });
    const { client: c, observer } = client(s.url, {
      requestTimeoutMs: 200,
      retry: { maxRetries: 0, baseDelayMs: 10, maxDelayMs: 10, maxRetryAfterMs: 60_000 },
    });
    const err = await failure(c.get('spend_limit'));
    expect(err.kind).toBe('timeout');
    expect(err.message).toMatch(/stalled/);
    expect(observer.codes()).toEqual(['200']);
  });

  it('passes the timeouts and the size cap to undici', () => {
    expect(dispatcherOptions({ requestTimeoutMs: 1234, maxResponseBytes: 5678 })).toEqual({
      connectTimeout: 1234,
      headersTimeout: 1234,
      bodyTimeout: 1234,
      maxResponseSize: 5678,
    });
  });
});

describe('size cap', () => {
  it('refuses a Content-Length above the cap before reading, not retried', async () => {
    const s = await server((_req, res) => json(res, 200, { data: 'x'.repeat(5_000) }));
    const { client: c, observer } = client(s.url, { maxResponseBytes: 1_000 });
    const err = await failure(c.get('usage'));
    expect(err.kind).toBe('too_large');
    expect(err.message).toMatch(/1000-byte limit/);
    expect(s.requests).toHaveLength(1);
    expect(observer.retries).toEqual([]);
  });

  it('stops a chunked body at the cap (undici maxResponseSize) and reads no further', async () => {
    let finished = false;
    let closedEarly = false;
    const s = await server(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.on('close', () => {
        if (!res.writableFinished) closedEarly = true;
      });
      const chunk = Buffer.alloc(16_384, 'a');
      res.write('"');
      // 64 MiB if nobody stops it.
      for (let i = 0; i < 4_096 && !res.destroyed; i++) {
        if (!res.write(chunk)) await new Promise((r) => res.once('drain', r).once('close', r));
      }
      if (!res.destroyed) {
        res.end('"');
        finished = true;
      }
    });
    const { client: c, observer } = client(s.url, { maxResponseBytes: 100_000 });
    const err = await failure(c.get('usage'));
    expect(err.kind).toBe('too_large');
    expect(s.requests).toHaveLength(1);
    expect(observer.retries).toEqual([]);
    await until(() => closedEarly, 'the server to see the connection closed');
    expect(finished).toBe(false);
  });
});

describe('final statuses and bodies', () => {
  it.each([401, 403, 422, 400])('HTTP %i is final: kind http with the status and a short body snippet', async (status) => {
    const detail = [{ loc: ['query', 'start_time'], msg: 'Field required', type: 'missing', filler: 'y'.repeat(500) }];
    const s = await server((_req, res) => json(res, status, { detail }));
    const { client: c, observer } = client(s.url);
    const err = await failure(c.get('lechat_by_user'));
    expect(err.kind).toBe('http');
    expect(err.status).toBe(status);
    expect(err.message).toContain(`HTTP ${status}`);
    expect(err.message).toContain('Field required');
    expect(err.message.length).toBeLessThan(400);
    expect(s.requests).toHaveLength(1);
    expect(observer.retries).toEqual([]);
  });

  it('decodes a body as its pieces arrive: a character split between two pieces, a leading byte order mark, invalid bytes', async () => {
    const euro = Buffer.from('€'); // three bytes in UTF-8
    // Three writes, flushed apart: the client reads them as three pieces, the euro sign cut after its first byte.
    const s = await server(
      inPieces([
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"name": "5 '), euro.subarray(0, 1)]),
        euro.subarray(1),
        Buffer.from([0x20, 0xff, 0x22, 0x7d]),
      ]),
    );
    const { client: c } = client(s.url);
    expect((await c.get('spend_limit')).body).toEqual({ name: '5 € \ufffd' });
  });

  it('reads an answer of several MB whole, in pieces', async () => {
    const rows = Array.from({ length: 40_000 }, (_, i) => ({ user_id: `user-${i}-é`, messages_count: i }));
    const s = await server((_req, res) => json(res, 200, { data: rows }));
    const { client: c } = client(s.url, { maxResponseBytes: 16 << 20 });
    expect((await c.get('lechat_by_user')).body).toEqual({ data: rows });
  });

  it('a body that is not JSON is invalid_json, with a snippet, not retried', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Maintenance</body></html>');
    });
    const { client: c, observer } = client(s.url);
    const err = await failure(c.get('usage'));
    expect(err.kind).toBe('invalid_json');
    expect(err.message).toMatch(/not valid JSON/);
    expect(err.message).toContain('Maintenance');
    expect(s.requests).toHaveLength(1);
    expect(observer.retries).toEqual([]);
  });
});

describe('digests of answers', () => {
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

  it('gives the SHA-256 of the bytes; unless it is unlessDigest, the answer is read as without it: decoded piece by piece, scrubbed, parsed', async () => {
    const euro = Buffer.from('€');
    // A character split between two pieces, a byte order mark, an invalid byte, and the key echoed.
    const pieces = [
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`{"name": "5 `), euro.subarray(0, 1)]),
      Buffer.concat([euro.subarray(1), Buffer.from(` ${CANARY}`)]),
      Buffer.from([0x20, 0xff, 0x22, 0x7d]),
    ];
    const s = await server(inPieces(pieces));
    const { client: c } = client(s.url);
    const digest = sha256(Buffer.concat(pieces));
    const expected = { name: '5 € [REDACTED] \ufffd' };
    expect(await c.get('spend_limit', { digest: true })).toEqual({ body: expected, status: 200, path: 'spend-limit', digest });
    expect(await c.get('spend_limit', { unlessDigest: 'f'.repeat(64) })).toEqual({
      body: expected,
      status: 200,
      path: 'spend-limit',
      digest,
    });
  });

  it('an answer whose digest is unlessDigest is neither decoded nor parsed: unchanged, no body', async () => {
    let answer = '{"v": 1}';
    const s = await server((_req, res) => json(res, 200, answer));
    const { client: c } = client(s.url);
    const { digest } = await c.get('rate_limit', { digest: true });
    expect(digest).toBe(sha256(Buffer.from(answer)));
    // The same bytes: nothing read of them. Bytes that would not even parse show that they are not read either.
    expect(await c.get('rate_limit', { unlessDigest: digest })).toEqual({
      body: undefined,
      status: 200,
      path: 'rate-limit',
      digest,
      unchanged: true,
    });
    answer = '<html>down</html>';
    const unreadable = sha256(Buffer.from(answer));
    expect((await c.get('rate_limit', { unlessDigest: unreadable })).unchanged).toBe(true);
    // Other bytes are read: here, not JSON.
    const err = await failure(c.get('rate_limit', { unlessDigest: digest }));
    expect(err.kind).toBe('invalid_json');
    expect(s.requests).toHaveLength(4);
  });
});

describe('path variants', () => {
  const endpoint = 'lechat_by_user' as const;
  const [brief, legacy, current] = pathCandidates(endpoint, 'auto') as [string, string, string];

  it('tries the variants in order on 404, keeps the one that answers, and starts with it next time', async () => {
    const s = await server((req, res) => (req.url?.startsWith(`/${current}`) ? ok(res) : json(res, 404, { detail: 'Not Found' })));
    const { client: c, observer, logs } = client(s.url);
    expect(c.pathInUse(endpoint)).toBeUndefined();
    const first = await c.get(endpoint, { query: { start_time: 1, end_time: 2 } });
    expect(first.path).toBe(current);
    expect(s.requests.map((r) => r.path)).toEqual([`/${brief}`, `/${legacy}`, `/${current}`]);
    expect(s.requests.every((r) => r.query.get('start_time') === '1')).toBe(true);
    expect(observer.codes()).toEqual(['404', '404', '200']);
    expect(observer.paths).toEqual([[endpoint, current]]);
    expect(c.pathInUse(endpoint)).toBe(current);
    const info = logs.lines().filter((l) => l.level === 'info');
    expect(info).toHaveLength(1);
    expect(info[0]).toMatchObject({ api_endpoint: endpoint, path: current });

    await c.get(endpoint);
    expect(s.requests.map((r) => r.path).slice(3)).toEqual([`/${current}`]);
    expect(observer.paths).toHaveLength(1); // not reported again
  });

  it('when the remembered variant starts to 404, tries the others again and reports the change', async () => {
    let answering = current;
    const s = await server((req, res) => (req.url?.startsWith(`/${answering}`) ? ok(res) : json(res, 404, {})));
    const { client: c, observer, logs } = client(s.url);
    await c.get(endpoint);
    answering = legacy;
    const again = await c.get(endpoint);
    expect(again.path).toBe(legacy);
    expect(s.requests.map((r) => r.path).slice(3)).toEqual([`/${current}`, `/${brief}`, `/${legacy}`]);
    expect(observer.paths).toEqual([
      [endpoint, current],
      [endpoint, legacy],
    ]);
    expect(c.pathInUse(endpoint)).toBe(legacy);
    expect(
      logs
        .lines()
        .filter((l) => l.level === 'info')
        .at(-1),
    ).toMatchObject({ path: legacy, previous_path: current });
  });

  it('all variants 404: kind not_found', async () => {
    const s = await server((_req, res) => json(res, 404, {}));
    const { client: c, observer } = client(s.url);
    const err = await failure(c.get(endpoint));
    expect(err.kind).toBe('not_found');
    expect(s.requests).toHaveLength(3);
    expect(observer.paths).toEqual([]);
    expect(observer.retries).toEqual([]);
  });

  it('a pinned layout has one candidate: a 404 is not_found after one request', async () => {
    const s = await server((_req, res) => json(res, 404, {}));
    const { client: c } = client(s.url, { pathLayout: 'current' });
    const err = await failure(c.get(endpoint));
    expect(err.kind).toBe('not_found');
    expect(s.requests.map((r) => r.path)).toEqual([`/${current}`]);
  });

  it('a variant that answers with something other than 404 (403) ends the search', async () => {
    const s = await server((_req, res) => json(res, 403, { detail: 'Forbidden' }));
    const { client: c } = client(s.url);
    const err = await failure(c.get(endpoint));
    expect(err.kind).toBe('http');
    expect(err.status).toBe(403);
    expect(s.requests).toHaveLength(1);
  });
});

describe('concurrency', () => {
  it('never has more than maxConcurrency requests in flight (2 of 6 parallel calls)', async () => {
    const waiting: Array<() => void> = [];
    const s = await server((_req, res) => {
      waiting.push(() => ok(res));
    });
    const { client: c } = client(s.url, { maxConcurrency: 2 });
    const calls = Array.from({ length: 6 }, () => c.get('usage'));
    for (let i = 0; i < 6; i++) {
      await until(() => waiting.length === Math.min(2, 6 - i), `${Math.min(2, 6 - i)} requests in flight`);
      waiting.shift()?.();
    }
    await Promise.all(calls);
    expect(s.requests).toHaveLength(6);
    expect(s.maxInFlight()).toBe(2);
  });

  it('a backoff wait holds no slot', async () => {
    const s = await server((req, res) => (req.url === '/usage' && s.requests.length === 1 ? json(res, 503, {}) : ok(res)));
    const clock = new ManualClock();
    const { client: c } = client(s.url, { clock, maxConcurrency: 1 });
    const waitingCall = c.get('usage');
    await clock.waitForTimer(); // usage is backing off
    await expect(c.get('spend_limit')).resolves.toMatchObject({ status: 200 });
    await clock.advance(1_000);
    await expect(waitingCall).resolves.toMatchObject({ status: 200 });
  });
});

describe('abort', () => {
  it('aborting mid-backoff ends the call with aborted and clears the wait', async () => {
    const s = await server((_req, res) => json(res, 503, {}));
    const clock = new ManualClock();
    const { client: c } = client(s.url, { clock });
    const controller = new AbortController();
    const call = c.get('usage', { signal: controller.signal });
    await clock.waitForTimer();
    controller.abort(new Error('refresh deadline passed'));
    const err = await failure(call);
    expect(err.kind).toBe('aborted');
    expect(err.message).toContain('refresh deadline passed');
    expect(clock.pending()).toEqual([]);
    expect(s.requests).toHaveLength(1);
  });

  it('aborting mid-request ends the call with aborted and aborts the request', async () => {
    let closed = false;
    const s = await server((_req, res) => {
      res.on('close', () => {
        closed = true;
      });
    });
    const { client: c } = client(s.url);
    const controller = new AbortController();
    const call = c.get('usage', { signal: controller.signal });
    await until(() => s.requests.length === 1, 'the request');
    controller.abort(new Error('refresh deadline passed'));
    const err = await failure(call);
    expect(err.kind).toBe('aborted');
    await until(() => closed, 'the server to see the request aborted');
  });

  it('aborting a call that waits for a concurrency slot ends it at once; it never sends', async () => {
    const waiting: Array<() => void> = [];
    const s = await server((_req, res) => {
      waiting.push(() => ok(res));
    });
    const { client: c } = client(s.url, { maxConcurrency: 1 });
    const first = c.get('usage');
    await until(() => waiting.length === 1, 'the first request');
    const controller = new AbortController();
    const queued = c.get('spend_limit', { signal: controller.signal });
    controller.abort(new Error('deadline'));
    expect((await failure(queued)).kind).toBe('aborted');
    waiting.shift()?.();
    await first;
    expect(s.requests.map((r) => r.path)).toEqual(['/usage']);
  });

  it('an already aborted signal sends nothing', async () => {
    const s = await server((_req, res) => ok(res));
    const { client: c } = client(s.url);
    const err = await failure(c.get('usage', { signal: AbortSignal.abort(new Error('too late')) }));
    expect(err.kind).toBe('aborted');
    expect(s.requests).toHaveLength(0);
  });
});

describe('close', () => {
  it('ends the connections of the dispatcher it created; later calls fail as aborted and send nothing', async () => {
    // The server keeps idle connections and tells undici to keep them 10 minutes: only close() ends one during the test.
    const s = await server((_req, res) => json(res, 200, { ok: true }, { 'keep-alive': 'timeout=600' }), { keepAliveTimeoutMs: 0 });
    const { client: closed } = client(s.url);
    const { client: other } = client(s.url);
    await closed.get('usage');
    await other.get('usage');
    expect([s.connections(), s.openConnections()]).toEqual([2, 2]);
    await closed.close();
    await until(() => s.openConnections() === 1, "the closed client's connection to end");
    const err = await failure(closed.get('usage'));
    expect([err.kind, err.message]).toEqual(['aborted', 'the Admin API client is closed']);
    // The connection still open is the other client's: it carries that client's next request.
    await other.get('usage');
    expect([s.requests.length, s.connections(), s.openConnections()]).toEqual([3, 2, 1]);
  });

  it('may be closed twice; a call waiting for a slot at close() ends as aborted, not pending forever', async () => {
    const waiting: Array<() => void> = [];
    const s = await server((_req, res) => {
      waiting.push(() => ok(res));
    });
    const { client: c } = makeClient(s.url, { maxConcurrency: 1 });
    const first = c.get('usage');
    await until(() => waiting.length === 1, 'the first request');
    const queued = failure(c.get('spend_limit'));
    const closing = c.close();
    waiting.shift()?.();
    await expect(first).resolves.toMatchObject({ status: 200 });
    expect((await queued).kind).toBe('aborted');
    await closing;
    await expect(c.close()).resolves.toBeUndefined();
    expect(s.requests.map((r) => r.path)).toEqual(['/usage']);
  });

  it('does not close a dispatcher passed in', async () => {
    const s = await server((_req, res) => ok(res));
    const agent = new Agent();
    cleanups.push(() => agent.close());
    const { client: c } = makeClient(s.url, { dispatcher: agent });
    await c.get('usage');
    await c.close();
    expect(agent.closed).toBe(false);
    const res = await agent.request({ origin: s.url, path: '/usage', method: 'GET' });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
  });
});

describe('the key never leaks', () => {
  it('appears in no thrown error and no log line, whatever fails', async () => {
    const echo = `{"detail": "bad key ${CANARY}"}`;
    const s = await server((req, res) => {
      const u = req.url ?? '';
      if (u.startsWith('/usage')) return json(res, 401, echo);
      if (u.startsWith('/spend-limit')) return json(res, 200, `not json ${CANARY}`);
      if (u.startsWith('/rate-limit')) return json(res, 500, echo);
      if (u.startsWith('/analytics/lechat/usage/by_user_stats')) return req.socket.destroy();
      if (u.startsWith('/analytics/lechat/usage/by_agent_stats')) return json(res, 200, { big: 'x'.repeat(2_000) });
      if (u.startsWith('/analytics/lechat/usage/by_time_stats')) return json(res, 429, echo, { 'retry-after': '99999' });
      if (u.startsWith('/analytics/vibe/usage/by_workspace')) return undefined; // hangs: timeout
      return json(res, 503, echo); // by_organization: aborted mid-backoff
    });
    const clock = new ManualClock();
    clock.autoAdvance();
    const { client: c, logs } = client(s.url, {
      clock,
      requestTimeoutMs: 200,
      maxResponseBytes: 1_000,
      retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 10, maxRetryAfterMs: 60_000 },
    });
    const errors: AdminApiError[] = [];
    for (const e of [
      'usage',
      'spend_limit',
      'rate_limit',
      'lechat_by_user',
      'lechat_by_agent',
      'lechat_by_time',
      'vibe_by_workspace',
    ] as const) {
      errors.push(await failure(c.get(e)));
    }
    // From here time moves only when the test says: the backoff wait after the 503 cannot
    // elapse (and a retry answer) before the abort, however loaded the machine is.
    clock.autoAdvance(false);
    const controller = new AbortController();
    const aborted = c.get('vibe_by_organization', { signal: controller.signal });
    await until(() => s.requests.some((r) => r.path.includes('by_organization')), 'the request');
    await clock.waitForTimer();
    controller.abort(new Error('deadline'));
    errors.push(await failure(aborted));

    expect(errors.map((e) => e.kind)).toEqual([
      'http',
      'invalid_json',
      'http',
      'network',
      'too_large',
      'rate_limited',
      'timeout',
      'aborted',
    ]);
    // The server did echo the key: the errors carry the snippet, scrubbed.
    expect(errors[0]?.message).toContain('bad key [REDACTED]');
    for (const err of errors) {
      for (const text of [
        err.message,
        err.stack ?? '',
        JSON.stringify(err),
        inspect(err, { depth: Infinity, showHidden: true }),
        String(err),
      ]) {
        expect(text).not.toContain(CANARY);
      }
    }
    expect(logs.text().length).toBeGreaterThan(0);
    expect(logs.text()).not.toContain(CANARY);
  });

  it.each([
    ['the 200-character snippet', 190],
    ['the 4 KiB read of an error body', 4_096 - 10],
  ])('leaves no piece of a key echoed across %s', async (_what, at) => {
    // Spaces collapse in the message, so the piece of the key right after the cut would land in the snippet.
    const body = `${' '.repeat(at - 4)}xxxx${CANARY}${' tail'.repeat(2_000)}`;
    const s = await server((_req, res) => {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end(body);
    });
    const { client: c } = client(s.url);
    const err = await failure(c.get('usage'));
    expect(err.message).toContain('xxxx');
    for (let i = 0; i + 6 <= CANARY.length; i++) expect(err.message).not.toContain(CANARY.slice(i, i + 6));
  });
});
