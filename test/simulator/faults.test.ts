import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import { NOW_MS, asObject, getJson, simulator } from './helpers.js';

/** Resolves once `condition` holds, checking every few ms (the test's timeout bounds the wait). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('simulator fault injection', () => {
  it('answers with an injected status, body and headers, then recovers after `times`', async () => {
    const sim = await simulator();
    sim.setFault('rate_limit', { kind: 'status', status: 429, headers: { 'retry-after': '2' } }, 2);
    const first = await getJson(`${sim.url}/rate-limit`);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');
    expect(first.body).toEqual({ detail: 'Too Many Requests' });
    expect((await getJson(`${sim.url}/rate-limit`)).status).toBe(429);
    expect((await getJson(`${sim.url}/rate-limit`)).status).toBe(200);
    expect(sim.requests.map((r) => r.status)).toEqual([429, 429, 200]);
  });

  it('applies faults only to their endpoint, queued in order, until cleared', async () => {
    const sim = await simulator();
    sim.setFault('usage', { kind: 'status', status: 500 }, 1);
    sim.setFault('usage', { kind: 'status', status: 403, body: { message: 'Forbidden', request_id: 'r-1' } });
    expect((await getJson(`${sim.url}/rate-limit`)).status).toBe(200);
    expect((await getJson(`${sim.url}/usage`)).status).toBe(500);
    const forbidden = await getJson(`${sim.url}/usage`);
    expect(forbidden).toMatchObject({ status: 403, body: { message: 'Forbidden', request_id: 'r-1' } });
    expect((await getJson(`${sim.url}/usage`)).status).toBe(403);
    sim.clearFaults();
    expect((await getJson(`${sim.url}/usage`)).status).toBe(200);
  });

  it('can answer 401 with a string body', async () => {
    const sim = await simulator();
    sim.setFault('spend_limit', { kind: 'status', status: 401, body: '{"detail":"Unauthorized"}' }, 1);
    expect(await getJson(`${sim.url}/spend-limit`)).toMatchObject({ status: 401, body: { detail: 'Unauthorized' } });
  });

  it('delays an answer by real time and then answers normally', async () => {
    const sim = await simulator();
    sim.setFault('rate_limit', { kind: 'delay', ms: 200 }, 1);
    const started = Date.now();
    const { status, body } = await getJson(`${sim.url}/rate-limit`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(status).toBe(200);
    expect(body).toEqual(sim.bodyFor('rate_limit'));
  });

  it('hangs until the client gives up, and close() ends hanging requests', async () => {
    const sim = await startSimulator({ now: () => NOW_MS });
    sim.setFault('usage', { kind: 'hang' });
    const arrived = (n: number) => until(() => sim.requests.filter((r) => r.endpoint === 'usage').length >= n);
    const giveUp = new AbortController();
    const first = fetch(`${sim.url}/usage`, { signal: giveUp.signal });
    await arrived(1);
    giveUp.abort();
    await expect(first).rejects.toThrow();
    const pending = fetch(`${sim.url}/usage`).then(
      () => 'answered',
      () => 'failed',
    );
    await arrived(2);
    // Both requests arrived and neither was answered.
    expect(sim.requests.filter((r) => r.endpoint === 'usage').map((r) => r.status)).toEqual([0, 0]);
    await sim.close();
    expect(await pending).toBe('failed');
  });

  it('close() also ends delayed requests', async () => {
    const sim = await startSimulator({ now: () => NOW_MS });
    sim.setFault('usage', { kind: 'delay', ms: 60_000 });
    const pending = fetch(`${sim.url}/usage`).then(
      () => 'answered',
      () => 'failed',
    );
    await until(() => sim.requests.length === 1);
    await sim.close();
    expect(await pending).toBe('failed');
  });

  it('resets the connection without answering', async () => {
    const sim = await simulator();
    sim.setFault('spend_limit', { kind: 'reset' }, 1);
    await expect(fetch(`${sim.url}/spend-limit`)).rejects.toThrow();
    expect(sim.requests[0]).toMatchObject({ endpoint: 'spend_limit', status: 0 });
    expect((await getJson(`${sim.url}/spend-limit`)).status).toBe(200);
  });

  it('serves truncated JSON', async () => {
    const sim = await simulator();
    sim.setFault('usage', { kind: 'malformed', variant: 'truncated-json' }, 1);
    const response = await fetch(`${sim.url}/usage`);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text.startsWith('{"completion"')).toBe(true);
    expect(() => JSON.parse(text)).toThrow();
  });

  it('serves a body that is not JSON', async () => {
    const sim = await simulator();
    sim.setFault('rate_limit', { kind: 'malformed', variant: 'not-json' }, 1);
    const response = await fetch(`${sim.url}/rate-limit`);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(() => JSON.parse(text)).toThrow();
  });

  it('serves valid JSON of the wrong shape', async () => {
    const sim = await simulator();
    sim.setFault('spend_limit', { kind: 'malformed', variant: 'wrong-shape' }, 1);
    const { status, body } = await getJson(`${sim.url}/spend-limit`);
    expect(status).toBe(200);
    expect(asObject(body)['limits']).toBeUndefined();
  });

  it('serves an empty body', async () => {
    const sim = await simulator();
    sim.setFault('lechat_by_user', { kind: 'malformed', variant: 'empty' }, 1);
    const response = await fetch(`${sim.url}/analytics/lechat/usage/by_user_stats?start_time=0&end_time=1`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  it('streams a huge valid JSON body without a content-length', async () => {
    const sim = await simulator();
    const bytes = 3 * 1024 * 1024;
    sim.setFault('usage', { kind: 'huge', bytes }, 1);
    const response = await fetch(`${sim.url}/usage`);
    expect(response.headers.get('content-length')).toBeNull();
    const text = await response.text();
    expect(Math.abs(text.length - bytes)).toBeLessThan(64);
    expect(asObject(JSON.parse(text))).toHaveProperty('padding');
  });

  it('survives a client that stops reading a huge body', async () => {
    const sim = await simulator();
    sim.setFault('usage', { kind: 'huge', bytes: 50 * 1024 * 1024 }, 1);
    const controller = new AbortController();
    const response = await fetch(`${sim.url}/usage`, { signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await expect(reader.read()).rejects.toThrow();
    expect((await getJson(`${sim.url}/usage`)).status).toBe(200);
  });

  it('cuts the connection mid-body, after the headers and half the answer', async () => {
    const sim = await simulator();
    sim.setFault('rate_limit', { kind: 'cut' }, 1);
    const full = JSON.stringify(sim.bodyFor('rate_limit'));
    const response = await fetch(`${sim.url}/rate-limit`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(full)));
    await expect(response.text()).rejects.toThrow();
  });

  it('sends the headers, then nothing, until the client gives up', async () => {
    const sim = await simulator();
    sim.setFault('rate_limit', { kind: 'silence' }, 1);
    const controller = new AbortController();
    const response = await fetch(`${sim.url}/rate-limit`, { signal: controller.signal });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const first = reader.read().then(
      () => 'data',
      () => 'aborted',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    expect(await first).toBe('aborted');
  });

  it('trickles the normal answer one byte at a time', async () => {
    const sim = await simulator();
    sim.setFault('rate_limit', { kind: 'trickle', everyMs: 1 }, 1);
    const response = await fetch(`${sim.url}/rate-limit`);
    const reader = response.body!.getReader();
    const chunks: number[] = [];
    let text = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      chunks.push(r.value.length);
      text += Buffer.from(r.value).toString();
    }
    expect(JSON.parse(text)).toEqual(sim.bodyFor('rate_limit'));
    expect(chunks.length).toBeGreaterThan(10); // not one chunk: it trickled
  });

  it('serves JSON nested 200 000 deep', async () => {
    const sim = await simulator();
    sim.setFault('usage', { kind: 'malformed', variant: 'deep-nesting' }, 1);
    const text = await (await fetch(`${sim.url}/usage`)).text();
    expect(text.length).toBe(400_000);
    expect(text.startsWith('[[[[') && text.endsWith(']]]]')).toBe(true);
  });

  it('never applies a fault to a non-GET request', async () => {
    const sim = await simulator();
    sim.setFault('spend_limit', { kind: 'status', status: 500 }, 1);
    const post = await fetch(`${sim.url}/spend-limit`, { method: 'POST' });
    await post.text();
    expect(post.status).toBe(405);
    expect((await getJson(`${sim.url}/spend-limit`)).status).toBe(500);
  });
});
