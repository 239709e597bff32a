/**
 * A loopback front for bench/bench.ts: forwards each GET to the simulator once and replays its answer
 * (status, type, body) to every later request for the same path and query, so that the exporter's
 * refreshes cost the upstream nothing and the benchmark measures the exporter alone. Queries that
 * change at every refresh (the audit log's time bounds) are forwarded each time. Counts the requests
 * it receives: the Admin API calls the exporter makes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

interface Answer {
  status: number;
  type: string;
  body: Buffer;
}

export interface ReplayFront {
  /** The base URL to give the exporter, e.g. http://127.0.0.1:PORT/api/admin */
  url: string;
  /** Requests received since the start (replayed or forwarded). */
  calls(): number;
  /** Requests received since the start, by path (no query). */
  callsByPath(): Map<string, number>;
  /**
   * With `true`, each replayed JSON answer differs in its bytes from the one
   * replayed before for the same request (a space more or less at its end:
   * the same data), so that no refresh gets the same answers as the last.
   */
  changeAnswers(on: boolean): void;
  close(): Promise<void>;
}

const SPACE = Buffer.from(' ');

export async function startReplayFront(upstream: string): Promise<ReplayFront> {
  const origin = new URL(upstream).origin;
  const answers = new Map<string, Promise<Answer>>();
  let calls = 0;
  const byPath = new Map<string, number>();
  let changing = false;
  const replays = new Map<string, number>();
  const forward = async (req: IncomingMessage): Promise<Answer> => {
    const headers: Record<string, string> = {};
    for (const h of ['authorization', 'x-api-key', 'accept']) {
      const value = req.headers[h];
      if (typeof value === 'string') headers[h] = value;
    }
    const answer = await request(`${origin}${req.url ?? '/'}`, { headers });
    const body = Buffer.from(await answer.body.arrayBuffer());
    return { status: answer.statusCode, type: String(answer.headers['content-type'] ?? 'application/json'), body };
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    calls++;
    const path = (req.url ?? '/').split('?')[0] as string;
    byPath.set(path, (byPath.get(path) ?? 0) + 1);
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    const key = req.url ?? '/';
    let answer = answers.get(key);
    if (answer === undefined) {
      answer = forward(req);
      // Only good answers are replayed; the audit log's moving time bounds make a new key each time anyway.
      answers.set(key, answer);
      answer.then(
        (a) => {
          if (a.status !== 200 || path.endsWith('/audit-logs')) answers.delete(key);
        },
        () => answers.delete(key),
      );
    }
    const { status, type, body } = await answer;
    const n = (replays.get(key) ?? 0) + 1;
    replays.set(key, n);
    const sent = changing && status === 200 && n % 2 === 0 ? Buffer.concat([body, SPACE]) : body;
    res.writeHead(status, { 'content-type': type, 'content-length': sent.length }).end(sent);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(502, { 'content-type': 'text/plain' }).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${new URL(upstream).pathname}`,
    calls: () => calls,
    callsByPath: () => new Map(byPath),
    changeAnswers: (on) => {
      changing = on;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
