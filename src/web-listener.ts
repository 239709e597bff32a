/**
 * TLS and authentication on the exporter's own listener, from the web config
 * file (web-config.ts): the HTTPS options the server starts with, a request
 * hook that checks client certificates and basic authentication, and the
 * re-reading of the files when they change (certificates renewed by
 * cert-manager, users added) without a restart.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import bcrypt from 'bcryptjs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { Clock } from './clock.js';
import { watchFiles, type FileWatcher } from './file-watch.js';
import type { Logger } from './logger.js';
import { loadWebConfig, WebConfigError, type WebConfig } from './web-config.js';

/** The paths that WEB_OPEN_PROBES leaves open, for Kubernetes' probes. */
const PROBE_PATHS = new Set(['/-/healthy', '/-/ready']);

/** Successful verifications remembered: a scrape every 15 s must not cost a bcrypt hash (~70 ms of CPU at cost 10) each time. */
const VERIFIED_CACHE_SIZE = 256;

export interface WebListenerOptions {
  /** WEB_CONFIG_FILE; undefined: plain HTTP, and only the bearer token. */
  path: string | undefined;
  /** WEB_BEARER_TOKEN_FILE: a token accepted as `Authorization: Bearer`. */
  bearerTokenFile?: string;
  /** WEB_OPEN_PROBES: /-/healthy and /-/ready answer without any authentication. */
  openProbes: boolean;
  logger: Logger;
  clock: Clock;
  /** How often the files are read for changes. */
  pollIntervalMs?: number;
}

export interface WebListener {
  /** For Fastify's `https` option; undefined when the web config has no TLS. */
  readonly httpsOptions: ServerOptions | undefined;
  /** Adds the authentication hook to `app` and keeps its server for certificate swaps. */
  install(app: FastifyInstance): void;
  /** Starts watching the files. */
  start(): void;
  stop(): void;
  /** One poll of the files now (tests). */
  poll(): Promise<void>;
}

const NO_WEB_CONFIG: WebConfig = { tls: undefined, users: new Map(), headers: {}, files: [] };

/** Reads the web config and the bearer token (throws WebConfigError saying what to fix, in one line) and returns the listener's guard. */
export function createWebListener(options: WebListenerOptions): WebListener {
  const { logger, path, bearerTokenFile } = options;
  const origin = `WEB_CONFIG_FILE=${JSON.stringify(path)}`;
  const tokenOrigin = `WEB_BEARER_TOKEN_FILE=${JSON.stringify(bearerTokenFile)}`;
  let current = NO_WEB_CONFIG;
  if (path !== undefined) {
    try {
      current = loadWebConfig(path);
    } catch (err) {
      if (err instanceof WebConfigError) throw new WebConfigError(`${origin}: ${err.message}`);
      throw err;
    }
  }
  let token: Buffer | undefined;
  if (bearerTokenFile !== undefined) {
    const read = readToken(bearerTokenFile);
    if (typeof read === 'string') throw new WebConfigError(`${tokenOrigin}: ${read}`);
    token = read;
  }
  let server: TlsServer | undefined;
  const verified = new LRUCache<string, true>({ max: VERIFIED_CACHE_SIZE });
  const pending = new Map<string, Promise<boolean>>();

  if (path !== undefined) logger.info(describe(current), `web config ${path} read: ${summary(current)}`);
  if (bearerTokenFile !== undefined) logger.info({ bearer_token_file: bearerTokenFile }, `bearer token read from ${bearerTokenFile}`);

  const connectionOptions = (config: WebConfig) => {
    const clientAuth = config.tls?.clientAuth ?? 'NoClientCert';
    return {
      requestCert: clientAuth !== 'NoClientCert',
      // Refused at the handshake, as Go does; with open probes the request hook refuses instead, so that probes need no certificate.
      rejectUnauthorized: clientAuth === 'RequireAndVerifyClientCert' && !options.openProbes,
    };
  };

  const reloadToken = (): void => {
    if (bearerTokenFile === undefined) return;
    const read = readToken(bearerTokenFile);
    if (typeof read === 'string') {
      logger.error({ bearer_token_file: bearerTokenFile }, `${tokenOrigin}: ${read}; keeping the token in use`);
      return;
    }
    if (token?.equals(read)) return;
    token = read;
    logger.info({ bearer_token_file: bearerTokenFile }, `${tokenOrigin}: the token changed; it is required from the next request on`);
  };

  const reload = (): void => {
    reloadToken();
    if (path === undefined) return;
    let next: WebConfig;
    try {
      next = loadWebConfig(path);
    } catch (err) {
      if (!(err instanceof WebConfigError)) throw err;
      logger.error({ web_config_file: path }, `web config ${path} changed but cannot be used: ${err.message}; keeping the previous one`);
      return;
    }
    if ((next.tls === undefined) !== (current.tls === undefined)) {
      logger.error(
        { web_config_file: path },
        `web config ${path} changed: turning TLS ${next.tls ? 'on' : 'off'} takes a restart; keeping the previous web config until then`,
      );
      return;
    }
    if (next.tls !== undefined && server !== undefined) {
      try {
        server.setSecureContext(next.tls.context);
      } catch (err) {
        logger.error(
          { web_config_file: path },
          `web config ${path} changed but its TLS settings were refused (${(err as Error).message}); keeping the previous one`,
        );
        return;
      }
      Object.assign(server, connectionOptions(next));
    }
    current = next;
    logger.info(describe(next), `web config ${path} changed and was applied: ${summary(next)}`);
  };

  const watcher: FileWatcher = watchFiles({
    paths: () => (bearerTokenFile === undefined ? current.files : [...current.files, bearerTokenFile]),
    onChange: reload,
    clock: options.clock,
    intervalMs: options.pollIntervalMs,
  });

  const verify = (user: string, password: string): Promise<boolean> => {
    const hash = current.users.get(user);
    const key = createHash('sha256')
      .update(JSON.stringify([user, password, hash ?? '']))
      .digest('hex');
    if (hash !== undefined && verified.get(key)) return Promise.resolve(true);
    let check = pending.get(key);
    if (check === undefined) {
      // An unknown user costs a hash too (against another user's salt), so that timing does not tell which users exist.
      const salt = (hash ?? (current.users.values().next().value as string)).slice(0, 29);
      check = bcrypt
        .hash(password, salt)
        .then((computed) => {
          const ok = hash !== undefined && computed.length === hash.length && timingSafeEqual(Buffer.from(computed), Buffer.from(hash));
          if (ok) verified.set(key, true);
          return ok;
        })
        .finally(() => pending.delete(key));
      pending.set(key, check);
    }
    return check;
  };

  const guard = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const config = current;
    for (const [name, value] of Object.entries(config.headers)) reply.header(name, value);
    const pathname = request.url.split('?', 1)[0] as string;
    if (options.openProbes && PROBE_PATHS.has(pathname)) return undefined;
    const certProblem = clientCertificateProblem(config, request.raw.socket as TLSSocket);
    if (certProblem !== undefined) {
      logger.debug({ remote: request.ip, url: pathname }, `refused: ${certProblem}`);
      return reply.code(403).type('text/plain; charset=utf-8').send(`Forbidden: ${certProblem}\n`);
    }
    if (config.users.size === 0 && token === undefined) return undefined;
    const authorization = request.headers.authorization;
    if (token !== undefined && bearerMatches(authorization, token)) return undefined;
    const credentials = config.users.size === 0 ? undefined : basicCredentials(authorization);
    if (credentials !== undefined && (await verify(credentials.user, credentials.password))) return undefined;
    logger.debug({ remote: request.ip, url: pathname }, 'refused: no valid basic authentication or bearer token');
    const challenge = config.users.size > 0 ? 'Basic' : 'Bearer';
    return reply.code(401).header('www-authenticate', challenge).type('text/plain; charset=utf-8').send('Unauthorized\n');
  };

  return {
    httpsOptions: current.tls === undefined ? undefined : { ...current.tls.context, ...connectionOptions(current) },
    install(app) {
      if (current.tls !== undefined) server = app.server as unknown as TlsServer;
      app.addHook('onRequest', guard);
    },
    start: () => watcher.start(),
    stop: () => watcher.stop(),
    poll: () => watcher.poll(),
  };
}

/** Why the request's client certificate is not good enough for `config`, or undefined when it is. */
function clientCertificateProblem(config: WebConfig, socket: TLSSocket): string | undefined {
  const tls = config.tls;
  if (tls === undefined || tls.clientAuth === 'NoClientCert' || typeof socket.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate();
  const given = peer !== null && Object.keys(peer).length > 0;
  switch (tls.clientAuth) {
    case 'RequireAnyClientCert':
      if (!given) return 'a client certificate is required';
      break;
    case 'VerifyClientCertIfGiven':
      if (given && !socket.authorized) return `the client certificate does not verify (${socket.authorizationError})`;
      break;
    case 'RequireAndVerifyClientCert':
      if (!given) return 'a client certificate is required';
      if (!socket.authorized) return `the client certificate does not verify (${socket.authorizationError})`;
      break;
    default:
      break;
  }
  if (tls.allowedSans.length > 0) {
    // e.g. "DNS:prometheus.monitoring.svc, IP Address:10.0.0.7, email:ops@example.com, URI:spiffe://..."
    const sans = (peer.subjectaltname ?? '').split(', ').map((s) => s.slice(s.indexOf(':') + 1));
    if (!sans.some((s) => tls.allowedSans.includes(s))) return 'the client certificate names none of client_allowed_sans';
  }
  return undefined;
}

/** The token's SHA-256, or why it cannot be used. */
function readToken(file: string): Buffer | string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    return `cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  if (text === '') return 'the file is empty; is the Secret mounted?';
  if (/[^\x21-\x7e]/.test(text)) return 'the token contains spaces, control or non-ASCII characters; check how it was copied';
  return sha256(text);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compared as hashes, in constant time whatever the lengths. */
function bearerMatches(header: string | undefined, token: Buffer): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return m !== null && timingSafeEqual(sha256(m[1] as string), token);
}

function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic[ \t]+([A-Za-z0-9+/]+=*)[ \t]*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function summary(config: WebConfig): string {
  const parts = [config.tls === undefined ? 'plain HTTP' : `TLS (client certificates: ${config.tls.clientAuth})`];
  parts.push(config.users.size === 0 ? 'no basic authentication' : `basic authentication for ${config.users.size} user(s)`);
  return parts.join(', ');
}

/** Log fields: what is served, never a hash. */
function describe(config: WebConfig): Record<string, unknown> {
  return {
    web_config_file: config.files[0],
    tls: config.tls !== undefined,
    ...(config.tls === undefined
      ? {}
      : {
          certificate_subject: config.tls.certificate.subject,
          certificate_not_after: config.tls.certificate.validTo,
          client_auth_type: config.tls.clientAuth,
          min_version: config.tls.context.minVersion,
        }),
    basic_auth_users: [...config.users.keys()],
  };
}
