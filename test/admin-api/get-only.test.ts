import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { getOnly, ReadOnlyViolationError } from '../../src/admin-api/client.js';
import { json, startServer } from './support.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup() {
  const server = await startServer((_req, res) => json(res, 200, { ok: true }));
  const agent = new Agent();
  cleanups.push(
    () => server.close(),
    () => agent.close(),
  );
  return { server, dispatcher: getOnly(agent) };
}

describe('the GET-only guard, against a real server', () => {
  it.each(['POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const)(
    'refuses %s: it throws and the server sees nothing',
    async (method) => {
      const { server, dispatcher } = await setup();
      await expect(
        dispatcher.request({
          origin: server.url,
          path: '/spend-limit',
          method,
          body: method === 'POST' ? '{"monthly_limit": 0}' : undefined,
        }),
      ).rejects.toThrow(ReadOnlyViolationError);
      // Refused before undici connected.
      expect(server.connections()).toBe(0);
      // A GET through the same dispatcher arrives; it is the only request the server ever saw.
      const res = await dispatcher.request({ origin: server.url, path: '/spend-limit', method: 'GET' });
      await res.body.dump();
      expect(res.statusCode).toBe(200);
      expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /spend-limit']);
    },
  );

  it('refuses a GET that carries a body', async () => {
    const { server, dispatcher } = await setup();
    await expect(dispatcher.request({ origin: server.url, path: '/spend-limit', method: 'GET', body: 'x' })).rejects.toThrow(
      ReadOnlyViolationError,
    );
    expect([server.requests.length, server.connections()]).toEqual([0, 0]);
  });

  it('refuses CONNECT and upgrades, which go through dispatch too', async () => {
    const { server, dispatcher } = await setup();
    await expect(dispatcher.connect({ origin: server.url, path: '/' })).rejects.toThrow(ReadOnlyViolationError);
    await expect(dispatcher.upgrade({ origin: server.url, path: '/' } as Parameters<typeof dispatcher.upgrade>[0])).rejects.toThrow(
      ReadOnlyViolationError,
    );
    expect([server.requests.length, server.connections()]).toEqual([0, 0]);
  });
});
