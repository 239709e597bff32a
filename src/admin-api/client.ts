import { createHash, type Hash } from 'node:crypto';
import { brotliDecompressSync, gunzipSync, inflateSync, constants as zlibConstants } from 'node:zlib';
import pLimit, { type LimitFunction } from 'p-limit';
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { sleep, type Clock } from '../clock.js';
import { formatDuration } from '../config/values.js';
import { pathCandidates, type ApiEndpoint, type PathLayout } from '../endpoints.js';
import type { Logger } from '../logger.js';
import { scrub, type Secret } from '../secret.js';
import { nextTurn } from '../slices.js';
import { getOnly } from './get-only.js';
import { parseRetryAfter } from './retry-after.js';
import {
  AdminApiError,
  type AdminApi,
  type ApiResponse,
  type ClientObserver,
  type GetOptions,
  type QueryValue,
  type RetryPolicy,
  type RetryReason,
} from './types.js';

export { getOnly, ReadOnlyViolationError } from './get-only.js';
export { parseRetryAfter } from './retry-after.js';

export interface AdminApiClientOptions {
  /** e.g. https://console.mistral.ai/api/admin; a trailing slash is tolerated. */
  baseUrl: string;
  apiKey: Secret;
  pathLayout: PathLayout | 'auto';
  /** Connect, response-headers and body-idle (between chunks) timeout of one attempt. */
  requestTimeoutMs: number;
  /** A larger body fails the call (`too_large`) and is read no further. */
  maxResponseBytes: number;
  /** HTTP requests in flight at once, all endpoints together; a backoff wait holds no slot. */
  maxConcurrency: number;
  retry: RetryPolicy;
  /** Every wait (backoff, Retry-After) goes through it. */
  clock: Clock;
  /** For the backoff jitter; default Math.random. */
  random?: () => number;
  logger: Logger;
  observer: ClientObserver;
  userAgent: string;
  /**
   * Default: an EnvHttpProxyAgent (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) with
   * the timeouts and the size cap. A dispatcher passed in keeps its own
   * timeouts and size cap (only a Content-Length above the cap is still
   * refused here) and is not closed by `close()`. Either way it is wrapped
   * in the GET-only guard.
   */
  dispatcher?: Dispatcher;
  /**
   * Network error codes reported at once instead of retried: failures that
   * no retry within one call can heal. Default `isTlsFailure`; `check` adds
   * a host name DNS does not know and a refused connection.
   */
  failFast?: (code: string) => boolean;
}

/**
 * A certificate that does not verify, or TLS spoken to a plain-HTTP port:
 * it stays so for the seconds a call's retries last (the next refresh
 * tries again). Codes of OpenSSL's verification and of Node's TLS layer.
 */
const TLS_FAILURES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_CHAIN_TOO_LONG',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

export function isTlsFailure(code: string): boolean {
  return TLS_FAILURES.has(code);
}

/** The undici options that carry the timeouts and the size cap. */
export function dispatcherOptions(options: Pick<AdminApiClientOptions, 'requestTimeoutMs' | 'maxResponseBytes'>) {
  return {
    connectTimeout: options.requestTimeoutMs,
    headersTimeout: options.requestTimeoutMs,
    bodyTimeout: options.requestTimeoutMs,
    maxResponseSize: options.maxResponseBytes,
  };
}

/** One HTTP request's answer: the whole body for a 2xx, its first bytes otherwise. */
interface Answer {
  status: number;
  retryAfter: string | undefined;
  text: string;
  /** The body was cut (an error answer's first bytes only). */
  truncated: boolean;
  /** The SHA-256 of the body's bytes, when asked for (GetOptions.digest). */
  digest?: string;
  /** The digest was GetOptions.unlessDigest: `text` is empty, the bytes were not decoded. */
  unchanged?: true;
}
type Outcome = { answer: Answer } | { failure: AdminApiError };

/** Retries spent by one call, over all its path variants, and what the last failed attempt met. */
interface Budget {
  retries: number;
  lastFailure?: string;
}

const SNIPPET_CHARS = 200;
/** How much of an error answer's body is read, for the message. */
const ERROR_BODY_BYTES = 4096;
/** Answers longer than this (about 1 MB) are scrubbed and parsed each in a turn of the event loop of its own: a few ms each. */
const LARGE_ANSWER_CHARS = 1 << 20;

/**
 * The only code that talks HTTP to Mistral: GET only, both auth headers,
 * timeouts, a size cap, retries with backoff, a global concurrency limit, and
 * the search for the path variant that answers.
 */
export class AdminApiClient implements AdminApi {
  readonly #options: AdminApiClientOptions;
  readonly #dispatcher: Dispatcher;
  readonly #ownDispatcher: Dispatcher | undefined;
  readonly #limit: LimitFunction;
  readonly #random: () => number;
  readonly #paths = new Map<ApiEndpoint, string>();
  readonly #base: URL;
  readonly #failFast: (code: string) => boolean;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: AdminApiClientOptions) {
    this.#options = options;
    const base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    if (base.protocol !== 'https:' && base.protocol !== 'http:') {
      throw new Error(`the Admin API URL must be http(s), not ${base.protocol}`);
    }
    base.search = '';
    base.hash = '';
    this.#base = base;
    this.#ownDispatcher = options.dispatcher === undefined ? new EnvHttpProxyAgent(dispatcherOptions(options)) : undefined;
    this.#dispatcher = getOnly(options.dispatcher ?? (this.#ownDispatcher as Dispatcher));
    // rejectOnClear: close() ends calls still waiting for a slot instead of leaving them pending forever.
    this.#limit = pLimit({ concurrency: options.maxConcurrency, rejectOnClear: true });
    this.#random = options.random ?? Math.random;
    this.#failFast = options.failFast ?? isTlsFailure;
  }

  /** The path variant in use for the endpoint, once one has answered. */
  pathInUse(endpoint: ApiEndpoint): string | undefined {
    return this.#paths.get(endpoint);
  }

  async get(endpoint: ApiEndpoint, options: GetOptions = {}): Promise<ApiResponse> {
    const all = pathCandidates(endpoint, this.#options.pathLayout);
    const known = this.#paths.get(endpoint);
    // The path that answered last time first, then the others in their usual order.
    const candidates = known !== undefined && all.includes(known) ? [known, ...all.filter((p) => p !== known)] : all;
    const budget: Budget = { retries: 0 };

    for (const path of candidates) {
      const answer = await this.#withRetries(endpoint, path, options, budget).catch((err: unknown) => {
        // "gave up: refresh deadline passed" alone hides why the call was still retrying: say what the last attempt met.
        if (err instanceof AdminApiError && err.kind === 'aborted' && budget.lastFailure !== undefined) {
          throw new AdminApiError(endpoint, 'aborted', `${err.message}; the last attempt: ${budget.lastFailure}`, err.details);
        }
        throw err;
      });
      if (answer.status === 404) {
        if (candidates.length > 1) this.#options.logger.debug({ api_endpoint: endpoint, path }, `${path} answered 404`);
        continue;
      }
      this.#remember(endpoint, path, candidates.length);
      if (answer.unchanged) return { body: undefined, status: answer.status, path, digest: answer.digest, unchanged: true };
      if (answer.text.length > LARGE_ANSWER_CHARS) await nextTurn();
      let body: unknown;
      try {
        body = JSON.parse(answer.text);
      } catch {
        throw new AdminApiError(endpoint, 'invalid_json', `the answer of ${path} is not valid JSON: ${this.#snippet(answer)}`, {
          status: answer.status,
          path,
        });
      }
      return answer.digest === undefined
        ? { body, status: answer.status, path }
        : { body, status: answer.status, path, digest: answer.digest };
    }
    throw new AdminApiError(
      endpoint,
      'not_found',
      candidates.length > 1 ? `every known path answered 404 (${candidates.join(', ')})` : `${candidates[0]} answered 404`,
      { status: 404 },
    );
  }

  /**
   * Closes the dispatcher the client made (not one passed in), after the
   * requests in flight; calls still waiting for a slot, and later calls,
   * fail as `aborted`. Closing again waits for the same close.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closed = true;
      this.#limit.clearQueue();
      this.#closing = this.#ownDispatcher === undefined ? Promise.resolve() : this.#ownDispatcher.close().then(() => undefined);
    }
    return this.#closing;
  }

  #remember(endpoint: ApiEndpoint, path: string, variants: number): void {
    const previous = this.#paths.get(endpoint);
    if (previous === path) return;
    this.#paths.set(endpoint, path);
    this.#options.observer.pathInUse(endpoint, path);
    this.#options.logger.info(
      { api_endpoint: endpoint, path, ...(previous === undefined ? {} : { previous_path: previous }) },
      previous === undefined
        ? `${endpoint}: using ${path}${variants > 1 ? ' (the first known path variant that answered)' : ''}`
        : `${endpoint}: ${previous} now answers 404, using ${path}`,
    );
  }

  /** One path, retried on 429, 5xx, timeouts and network errors. Resolves with a 2xx or a 404. */
  async #withRetries(endpoint: ApiEndpoint, path: string, options: GetOptions, budget: Budget): Promise<Answer> {
    const { retry, clock, logger, observer } = this.#options;
    for (;;) {
      const outcome = await this.#attempt(endpoint, path, options);
      let reason: RetryReason;
      let waitMs: number;
      let failure: AdminApiError;

      if ('failure' in outcome) {
        failure = outcome.failure;
        if (failure.kind !== 'timeout' && failure.kind !== 'network') throw failure;
        if (failure.details.code !== undefined && this.#failFast(failure.details.code)) throw failure;
        reason = failure.kind;
        waitMs = this.#backoff(budget.retries);
      } else {
        const { status, retryAfter } = outcome.answer;
        if ((status >= 200 && status < 300) || status === 404) return outcome.answer;
        if (status === 429) {
          const retryAfterMs = parseRetryAfter(retryAfter, clock.now());
          if (retryAfterMs !== undefined && retryAfterMs > retry.maxRetryAfterMs) {
            throw new AdminApiError(
              endpoint,
              'rate_limited',
              `${path} answered 429 with Retry-After ${formatDuration(retryAfterMs)}, longer than the client waits (${formatDuration(retry.maxRetryAfterMs)})`,
              { status, retryAfterMs, path },
            );
          }
          failure = new AdminApiError(endpoint, 'rate_limited', `${path} still answered 429 after ${budget.retries} retries`, {
            status,
            path,
            ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
          });
          reason = '429';
          waitMs = retryAfterMs ?? this.#backoff(budget.retries);
        } else if (status >= 500) {
          failure = this.#httpError(endpoint, path, outcome.answer, ` after ${budget.retries} retries`);
          reason = '5xx';
          waitMs = this.#backoff(budget.retries);
        } else {
          throw this.#httpError(endpoint, path, outcome.answer, '');
        }
      }

      if (budget.retries >= retry.maxRetries) throw failure;
      budget.lastFailure = failure.message;
      budget.retries++;
      observer.retry(endpoint, reason);
      logger.debug(
        { api_endpoint: endpoint, path, attempt: budget.retries + 1, reason, wait_ms: waitMs },
        `${endpoint}: retrying after ${reason}`,
      );
      try {
        await sleep(clock, waitMs, options.signal);
      } catch {
        throw this.#aborted(endpoint, options.signal);
      }
    }
  }

  /** One HTTP request under the concurrency limit; failures come back as values to decide on retries. */
  async #attempt(endpoint: ApiEndpoint, path: string, options: GetOptions): Promise<Outcome> {
    const { signal } = options;
    if (this.#closed || signal?.aborted) throw this.#aborted(endpoint, signal);
    const url = new URL(path, this.#base);
    for (const [k, v] of Object.entries(options.query ?? {}) as Array<[string, QueryValue]>) {
      if (typeof v === 'string' || typeof v === 'number') url.searchParams.set(k, String(v));
      else if (v !== undefined) for (const item of v) url.searchParams.append(k, item);
    }
    const digest = options.digest === true || options.unlessDigest !== undefined;
    return this.#limited(endpoint, signal, () => this.#send(endpoint, path, url, signal, digest, options.unlessDigest));
  }

  /** Runs `fn` in a concurrency slot; an abort while queued ends the wait at once. */
  #limited<T>(endpoint: ApiEndpoint, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    const run = () => {
      if (this.#closed || signal?.aborted) throw this.#aborted(endpoint, signal);
      return fn();
    };
    // A call dropped from the queue by close() rejects with p-limit's AbortError: report it as aborted.
    const limited = this.#limit(run).catch((err: unknown) => {
      throw err instanceof AdminApiError ? err : this.#closed ? this.#aborted(endpoint, signal) : err;
    });
    if (signal === undefined) return limited;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(this.#aborted(endpoint, signal));
      signal.addEventListener('abort', onAbort, { once: true });
      limited.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  async #send(
    endpoint: ApiEndpoint,
    path: string,
    url: URL,
    signal: AbortSignal | undefined,
    digest: boolean,
    unlessDigest: string | undefined,
  ): Promise<Outcome> {
    const { observer, maxResponseBytes } = this.#options;
    let response: Dispatcher.ResponseData;
    try {
      response = await this.#dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: this.#headers(),
        signal,
      });
    } catch (err) {
      observer.request(endpoint, 'error');
      if (this.#closed || signal?.aborted) throw this.#aborted(endpoint, signal);
      return { failure: this.#classify(endpoint, path, undefined, err) };
    }

    const status = response.statusCode;
    observer.request(endpoint, String(status));
    const retryAfter = firstHeader(response.headers['retry-after']);
    const body = response.body;

    if (status < 200 || status >= 300) {
      // Only the first bytes, for the message; the status is the answer.
      const { bytes, truncated } = await readPrefix(body, ERROR_BODY_BYTES);
      if (signal?.aborted) throw this.#aborted(endpoint, signal);
      const text = decodeBody(bytes, firstHeader(response.headers['content-encoding']), ERROR_BODY_BYTES * 16);
      return { answer: { status, retryAfter, text, truncated } };
    }

    const length = Number(firstHeader(response.headers['content-length']));
    if (Number.isFinite(length) && length > maxResponseBytes) {
      body.destroy();
      return { failure: this.#tooLarge(endpoint, path, status, `Content-Length ${length}`) };
    }
    try {
      // Scrubbed before anything reads it: a key echoed anywhere in an answer (a value, a model name, a map key) reaches
      // no parse message, log line, label or status page, in whatever form it was echoed (see scrub).
      const hash = digest ? createHash('sha256') : undefined;
      if (hash !== undefined && unlessDigest !== undefined) {
        // The bytes are decoded only once they are known to differ from the answer had before.
        const bytes = await readBytes(body, hash);
        const seen = hash.digest('hex');
        if (seen === unlessDigest) return { answer: { status, retryAfter, text: '', truncated: false, digest: seen, unchanged: true } };
        return { answer: { status, retryAfter, text: await this.#cleanLarge(await readText(bytes)), truncated: false, digest: seen } };
      }
      const text = await readText(body, hash);
      const answer: Answer = { status, retryAfter, text: await this.#cleanLarge(text), truncated: false };
      if (hash !== undefined) answer.digest = hash.digest('hex');
      return { answer };
    } catch (err) {
      if (this.#closed || signal?.aborted) throw this.#aborted(endpoint, signal);
      return { failure: this.#classify(endpoint, path, status, err) };
    }
  }

  /** `#clean` of an answer's text; a large answer is decoded, scrubbed and parsed in separate turns of the event loop: together they would hold it for tens of ms. */
  async #cleanLarge(text: string): Promise<string> {
    if (text.length > LARGE_ANSWER_CHARS) await nextTurn();
    return this.#clean(text);
  }

  /** The request headers; the only place the key is revealed for sending. */
  #headers(): Record<string, string> {
    const key = this.#options.apiKey.reveal();
    return {
      'x-api-key': key,
      authorization: `Bearer ${key}`,
      accept: 'application/json',
      'user-agent': this.#options.userAgent,
    };
  }

  /**
   * Turns an undici or socket error into a clean error. The original is not
   * kept as `cause`: undici errors can carry request options, headers included.
   */
  #classify(endpoint: ApiEndpoint, path: string, status: number | undefined, err: unknown): AdminApiError {
    const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : '';
    const timeout = formatDuration(this.#options.requestTimeoutMs);
    const details = { path, ...(status === undefined ? {} : { status }) };
    switch (code) {
      case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
        return this.#tooLarge(endpoint, path, status, 'body');
      case 'UND_ERR_CONNECT_TIMEOUT':
        return new AdminApiError(endpoint, 'timeout', `no connection to ${this.#base.host} within ${timeout}`, details);
      case 'UND_ERR_HEADERS_TIMEOUT':
        return new AdminApiError(endpoint, 'timeout', `no answer from ${path} within ${timeout}`, details);
      case 'UND_ERR_BODY_TIMEOUT':
        return new AdminApiError(endpoint, 'timeout', `the answer of ${path} stalled for ${timeout}`, details);
    }
    const message = err instanceof Error ? err.message : String(err);
    return new AdminApiError(
      endpoint,
      'network',
      `request to ${path} failed: ${this.#clean(`${code ? `${code} ` : ''}${message}`)}`,
      code ? { ...details, code } : details,
    );
  }

  #httpError(endpoint: ApiEndpoint, path: string, answer: Answer, suffix: string): AdminApiError {
    const { status } = answer;
    return new AdminApiError(endpoint, 'http', `${path} answered HTTP ${status}${suffix}: ${this.#snippet(answer)}`, { status, path });
  }

  #tooLarge(endpoint: ApiEndpoint, path: string, status: number | undefined, what: string): AdminApiError {
    return new AdminApiError(
      endpoint,
      'too_large',
      `the answer of ${path} is larger than the ${this.#options.maxResponseBytes}-byte limit (${what}); not read further`,
      { path, ...(status === undefined ? {} : { status }) },
    );
  }

  #aborted(endpoint: ApiEndpoint, signal: AbortSignal | undefined): AdminApiError {
    if (this.#closed && !signal?.aborted) return new AdminApiError(endpoint, 'aborted', 'the Admin API client is closed');
    const reason: unknown = signal?.reason;
    const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'aborted';
    return new AdminApiError(endpoint, 'aborted', `gave up: ${this.#clean(why)}`);
  }

  /** Full jitter: a random wait up to base × 2^retry, capped. */
  #backoff(retry: number): number {
    const { baseDelayMs, maxDelayMs } = this.#options.retry;
    return Math.round(this.#random() * Math.min(maxDelayMs, baseDelayMs * 2 ** retry));
  }

  /**
   * The start of a body for an error message, on one line, without the key:
   * scrubbed before it is cut (so a key across the cut cannot leave its
   * start behind), and a body cut in the middle of the key loses that piece.
   */
  #snippet(answer: Pick<Answer, 'text' | 'truncated'>): string {
    let text = withoutListedKeys(this.#clean(answer.text));
    if (answer.truncated) text = withoutTrailingPrefix(text, this.#options.apiKey.reveal());
    const flat = text.replace(/\s+/g, ' ').trim();
    const short = flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}…` : flat;
    return short || '(empty body)';
  }

  /** Text from outside (a body, an error message) with the key scrubbed, should a server echo it. */
  #clean(text: string): string {
    return scrub(text, [this.#options.apiKey.reveal()]);
  }
}

/**
 * `text` with the API keys an answer of GET api-keys lists (`key`, and the
 * masked `hidden_key`) replaced, should an unreadable one reach a log line;
 * a value cut by the end of the text included.
 */
function withoutListedKeys(text: string): string {
  return text.replace(/("(?:hidden_key|key)"\s*:\s*")[^"]*("|$)/g, '$1[REDACTED]$2');
}

/** `text` without a trailing start of `secret` (what is left when a body is cut inside it). */
function withoutTrailingPrefix(text: string, secret: string): string {
  for (let n = Math.min(secret.length - 1, text.length); n > 0; n--) {
    if (text.endsWith(secret.slice(0, n))) return text.slice(0, text.length - n);
  }
  return text;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** gzip's first bytes: a body compressed without saying so is still recognised. */
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/**
 * A body as text for a message: decompressed when it came gzip-, deflate- or
 * br-encoded (asked for or not: some proxies do), at most `maxBytes` bytes of
 * it, a cut one as far as it goes. What cannot be decoded is described,
 * never shown as binary: `<N bytes, gzip>`.
 */
function decodeBody(bytes: Buffer, contentEncoding: string | undefined, maxBytes: number): string {
  let coding = contentEncoding?.trim().toLowerCase() ?? '';
  if ((coding === '' || coding === 'identity') && bytes.subarray(0, 2).equals(GZIP_MAGIC)) coding = 'gzip';
  if (coding === '' || coding === 'identity') return bytes.toString('utf8');
  // A body cut short (only its first bytes were read) is decoded as far as it goes.
  const zlibOptions = { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: maxBytes };
  try {
    switch (coding) {
      case 'gzip':
      case 'x-gzip':
        return gunzipSync(bytes, zlibOptions).toString('utf8');
      case 'deflate':
        return inflateSync(bytes, zlibOptions).toString('utf8');
      case 'br':
        return brotliDecompressSync(bytes, {
          finishFlush: zlibConstants.BROTLI_OPERATION_FLUSH,
          maxOutputLength: maxBytes,
        }).toString('utf8');
    }
  } catch {
    // Corrupt, or larger than a message needs: described below.
  }
  return `<${bytes.length} bytes, ${coding}>`;
}

/**
 * The body as text, decoded as its pieces arrive (as `body.text()` decodes it
 * whole at the end: UTF-8, a leading byte order mark dropped, invalid bytes
 * replaced), so that a body of many MB is never decoded in one go; and its
 * bytes hashed with `hash`, if given. Also the bytes readBytes kept.
 */
async function readText(body: AsyncIterable<unknown> | Iterable<Uint8Array>, hash?: Hash): Promise<string> {
  const decoder = new TextDecoder();
  const parts: string[] = [];
  for await (const chunk of body) {
    hash?.update(chunk as Uint8Array);
    parts.push(decoder.decode(chunk as Uint8Array, { stream: true }));
  }
  parts.push(decoder.decode());
  return parts.join('');
}

/** The body's bytes, hashed as they arrive. */
async function readBytes(body: Dispatcher.ResponseData['body'], hash: Hash): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) {
    hash.update(chunk as Uint8Array);
    chunks.push(chunk as Uint8Array);
  }
  return chunks;
}

/** Reads at most `maxBytes` of `body`, then drops the rest; read errors end it quietly. */
async function readPrefix(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  try {
    for await (const chunk of body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      chunks.push(buf);
      size += buf.length;
      if (size >= maxBytes) {
        truncated = true;
        break;
      }
    }
  } catch {
    // The status is the answer; the body only adds detail to the message.
    truncated = true;
  } finally {
    if (!body.destroyed) body.destroy();
  }
  return { bytes: Buffer.concat(chunks).subarray(0, maxBytes), truncated };
}
