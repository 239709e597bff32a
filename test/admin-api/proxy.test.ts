import { afterEach, describe, expect, it } from 'vitest';
import { json, makeClient, startProxy, startServer, withProxyEnv } from './support.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup() {
  const target = await startServer((_req, res) => json(res, 200, { ok: true }));
  const proxy = await startProxy();
  cleanups.push(
    () => target.close(),
    () => proxy.close(),
  );
  return { target, proxy };
}

// EnvHttpProxyAgent reads HTTP(S)_PROXY when it is constructed and NO_PROXY
// when it dispatches: the environment is set around both.
describe('proxies from the environment (default dispatcher)', () => {
  it('sends the request through HTTP_PROXY when the target is not in NO_PROXY', async () => {
    const { target, proxy } = await setup();
    await withProxyEnv({ HTTP_PROXY: proxy.url, NO_PROXY: 'example.invalid' }, async () => {
      const { client } = makeClient(`${target.url}/api/admin`);
      try {
        await expect(client.get('usage')).resolves.toMatchObject({ status: 200, body: { ok: true } });
      } finally {
        await client.close();
      }
    });
    expect(proxy.seen).toHaveLength(1);
    expect(proxy.seen[0]).toMatch(new RegExp(`^(CONNECT 127\\.0\\.0\\.1:${target.port}|GET ${target.url}/api/admin/usage)$`));
    expect(target.requests.map((r) => r.path)).toEqual(['/api/admin/usage']);
    // The auth headers reached the target through the tunnel.
    expect(target.requests[0]?.headers['x-api-key']).toBeDefined();
  });

  it('goes direct when the target is in NO_PROXY', async () => {
    const { target, proxy } = await setup();
    await withProxyEnv({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }, async () => {
      const { client } = makeClient(target.url);
      try {
        await expect(client.get('usage')).resolves.toMatchObject({ status: 200 });
      } finally {
        await client.close();
      }
    });
    expect(proxy.seen).toEqual([]);
    expect(target.requests).toHaveLength(1);
  });
});
