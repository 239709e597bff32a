/**
 * Clients that anyone who reaches the port can be (issue 10, defect 2): many
 * requests pipelined on one connection, clients that never read their answer,
 * many /metrics at once. Each must cost a bounded number of answers in flight,
 * and the exporter must go on answering others. Real sockets (node:net) for
 * pipelining and never-reading clients; app.inject for concurrency.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import type { Harness } from './support/harness.js';
import { useHarness } from './support/harness.js';

const harness = useHarness();

async function listen(h: Harness): Promise<number> {
  await h.exporter.app.listen({ host: '127.0.0.1', port: 0 });
  const address = h.exporter.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function connections(h: Harness): Promise<number> {
  return new Promise((resolve, reject) => h.exporter.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

/** Polls `predicate` until it holds; fails the test after `tries` polls (never a time asserted, only a bound on waiting). */
async function eventually(predicate: () => Promise<boolean>, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not reached');
}

/** Writes `count` GETs at once on one connection and reads until the exporter closes it; the status of each answer. */
function pipelined(port: number, path: string, count: number): Promise<{ statuses: number[]; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closedByServer = false;
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => {
      closedByServer = true;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ statuses: [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])), closedByServer });
    });
    socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`.repeat(count));
    // Whatever happens, the test must not hang on an exporter that keeps the connection: enough answers end it.
    let seen = 0;
    socket.on('data', (d: Buffer) => {
      seen += d.toString('latin1').split('HTTP/1.1 ').length - 1;
      if (seen >= count) socket.destroy();
    });
  });
}

describe('a client that pipelines requests', () => {
  it('gets HTTP_MAX_REQUESTS_PER_CONNECTION answers, then 503, and its connection is closed; nothing more is rendered', async () => {
    const h = await harness({ env: { HTTP_MAX_REQUESTS_PER_CONNECTION: '4' } });
    await h.refreshAll();
    const port = await listen(h);
    const render = vi.spyOn(h.exporter.ownMetrics, 'renderBytes');

    const { statuses, closedByServer } = await pipelined(port, '/metrics', 500);

    expect(statuses).toEqual([200, 200, 200, 200, 503]);
    expect(closedByServer).toBe(true);
    expect(render).toHaveBeenCalledTimes(4);
    // Every answer in flight was let go with the connection: the next client gets its /metrics.
    const next = await pipelined(port, '/metrics', 1);
    expect(next.statuses).toEqual([200]);
  });

  it('of cheap pages too: the cap is per connection, whatever is asked', async () => {
    const h = await harness({ env: { HTTP_MAX_REQUESTS_PER_CONNECTION: '2' } });
    const port = await listen(h);
    const { statuses, closedByServer } = await pipelined(port, '/-/healthy', 1000);
    expect(statuses).toEqual([200, 200, 503]);
    expect(closedByServer).toBe(true);
  });
});

describe('many /metrics at once', () => {
  it('past HTTP_MAX_METRICS_IN_FLIGHT, /metrics answers 503 at once while health and readiness still answer', async () => {
    const h = await harness({ env: { HTTP_MAX_METRICS_IN_FLIGHT: '3' } });
    await h.refreshAll();
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, () => h.exporter.app.inject({ method: 'GET', url: '/metrics' })),
      h.exporter.app.inject({ method: 'GET', url: '/-/healthy' }),
      h.exporter.app.inject({ method: 'GET', url: '/-/ready' }),
    ]);
    const metrics = answers.slice(0, 10);
    expect(metrics.filter((a) => a.statusCode === 200)).toHaveLength(3);
    const refused = metrics.filter((a) => a.statusCode === 503);
    expect(refused).toHaveLength(7);
    expect(refused[0]?.headers['retry-after']).toBe('1');
    expect(refused[0]?.body).toMatch(/HTTP_MAX_METRICS_IN_FLIGHT=3/);
    expect(answers.slice(10).map((a) => a.statusCode)).toEqual([200, 200]);
    // The slots are free again once those answers are sent.
    expect((await h.exporter.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });
});

describe('a client that never reads its answer', () => {
  it('is disconnected after HTTP_IDLE_TIMEOUT, and the exporter answers others meanwhile', async () => {
    // Per-user series make /metrics a few MB: four of them pipelined are more than the kernel buffers of a
    // connection hold, so the answer stalls in the exporter until the client reads, which it never does.
    const h = await harness({
      env: { HTTP_IDLE_TIMEOUT: '300ms', HTTP_KEEP_ALIVE_TIMEOUT: '1h', LECHAT_USER_METRICS: 'true' },
      sim: { org: { users: 3000 } },
    });
    await h.refreshAll();
    const port = await listen(h);
    const body = await h.scrape();
    expect(body.length).toBeGreaterThan(2 * 1024 ** 2);
    const render = vi.spyOn(h.exporter.ownMetrics, 'renderBytes');

    const idle: Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const socket = connect(port, '127.0.0.1');
        socket.pause();
        socket.on('error', () => undefined);
        socket.write('GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n'.repeat(4));
        idle.push(socket);
      }
      await eventually(async () => render.mock.calls.length >= 12);
      // Meanwhile, on a connection of its own, the exporter answers.
      expect((await pipelined(port, '/-/healthy', 1)).statuses).toEqual([200]);
      // The three idle connections are closed by the exporter, not by the clients.
      await eventually(async () => (await connections(h)) === 0);
    } finally {
      for (const s of idle) s.destroy();
    }
  });
});

describe('a client that opens many connections', () => {
  it('holds at most HTTP_MAX_CONNECTIONS: one more is closed at once, and a place freed is taken again', async () => {
    const h = await harness({ env: { HTTP_MAX_CONNECTIONS: '3' } });
    const port = await listen(h);
    const open = async () => {
      const socket = connect(port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      return socket;
    };
    const idle: Socket[] = [];
    for (let i = 0; i < 3; i++) idle.push(await open());
    await eventually(async () => (await connections(h)) === 3);
    // The fourth is accepted by the kernel, then closed by the exporter without an answer.
    const extra = await open();
    const received: Buffer[] = [];
    extra.on('data', (d: Buffer) => received.push(d));
    extra.write('GET /-/healthy HTTP/1.1\r\nHost: test\r\n\r\n');
    await new Promise((resolve) => extra.once('close', resolve));
    expect(Buffer.concat(received).length).toBe(0);
    expect(await connections(h)).toBe(3);

    idle.pop()?.destroy();
    await eventually(async () => (await connections(h)) === 2);
    const res = await fetch(`http://127.0.0.1:${port}/-/healthy`);
    expect(res.status).toBe(200);
    for (const s of idle) s.destroy();
  });
});
