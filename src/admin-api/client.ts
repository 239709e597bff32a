import pLimit, { type LimitFunction } from 'p-limit';
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { sleep, type Clock } from '../clock.js';
import { formatDuration } from '../config/values.js';
import { pathCandidates, type ApiEndpoint, type PathLayout } from '../endpoints.js';
import type { Logger } from '../logger.js';
import { scrub, type Secret } from '../secret.js';
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

export interface AdminApiClientOptions {
  baseUrl: string;
  apiKey: Secret;
  pathLayout: PathLayout | 'auto';
  /** Connect, response-headers and body-idle timeout of one attempt. */
  requestTimeoutMs: number;
  /** A larger body fails the call (`too_large`) and is read no further. */
  maxResponseBytes: number;
  /** HTTP requests in flight at once, all endpoints together; a backoff wait holds no slot. */
  maxConcurrency: number;
  retry: RetryPolicy;
  clock: Clock;
  random?: () => number;
  logger: Logger;
  observer: ClientObserver;
  userAgent: string;
  /** Default: an EnvHttpProxyAgent (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) with the timeouts and size cap. */
  dispatcher?: Dispatcher;
}

/**
 * The admin key can also change the spend limit. This interceptor is the one
 * place that makes the exporter read-only: every request the client's
 * dispatcher carries goes through it, and anything but GET is refused before
 * a byte is sent.
 */
export function getOnly(): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (options, handler) => {
    const method = String(options.method).toUpperCase();
    if (method !== 'GET') {
      throw new Error(`refused to send ${method}: the exporter only ever reads the Admin API`);
    }
    return dispatch(options, handler);
  };
}

/** The answer of one HTTP attempt. */
interface Attempt {
  status: number;
  retryAfter: string | undefined;
  text: string;
}

const SNIPPET_CHARS = 200;

/**
 * The only code that talks HTTP to Mistral: GET only, both auth headers,
 * timeouts, a size cap, retries with backoff, a global concurrency limit, and
 * the search for the path variant that answers.
 */
export class AdminApiClient implements AdminApi {
  private readonly dispatcher: Dispatcher;
  private readonly ownDispatcher: Dispatcher | undefined;
  private readonly limit: LimitFunction;
  private readonly random: () => number;
  private readonly paths = new Map<ApiEndpoint, string>();
  private readonly base: URL;

  constructor(private readonly options: AdminApiClientOptions) {
    this.ownDispatcher =
      options.dispatcher === undefined
        ? new EnvHttpProxyAgent({
            connectTimeout: options.requestTimeoutMs,
            headersTimeout: options.requestTimeoutMs,
            bodyTimeout: options.requestTimeoutMs,
            maxResponseSize: options.maxResponseBytes,
          })
        : undefined;
    this.dispatcher = (options.dispatcher ?? (this.ownDispatcher as Dispatcher)).compose(getOnly());
    this.limit = pLimit(options.maxConcurrency);
    this.random = options.random ?? Math.random;
    this.base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
  }

  pathInUse(endpoint: ApiEndpoint): string | undefined {
    return this.paths.get(endpoint);
  }

  async get(endpoint: ApiEndpoint, options: GetOptions = {}): Promise<ApiResponse> {
    const known = this.paths.get(endpoint);
    const all = pathCandidates(endpoint, this.options.pathLayout);
    // The path that answered last time first, then the others in their usual order.
    const candidates = known !== undefined && all.includes(known) ? [known, ...all.filter((p) => p !== known)] : all;

    for (const path of candidates) {
      const attempt = await this.withRetries(endpoint, path, options);
      if (attempt.status === 404) continue;
      this.remember(endpoint, path, all.length);
      let body: unknown;
      try {
        body = JSON.parse(attempt.text);
      } catch {
        throw new AdminApiError(endpoint, 'invalid_json', `answer of ${path} is not JSON: ${this.snippet(attempt.text)}`, {
          status: attempt.status,
          path,
        });
      }
      return { body, status: attempt.status, path };
    }
    throw new AdminApiError(endpoint, 'not_found', `every known path answered 404 (${candidates.join(', ')})`, { status: 404 });
  }

  async close(): Promise<void> {
    await this.ownDispatcher?.close();
  }

  private remember(endpoint: ApiEndpoint, path: string, variants: number): void {
    if (this.paths.get(endpoint) === path) return;
    const previous = this.paths.get(endpoint);
    this.paths.set(endpoint, path);
    this.options.observer.pathInUse(endpoint, path);
    if (variants > 1 || previous !== undefined) {
      this.options.logger.info({ api_endpoint: endpoint, path, previous_path: previous }, `using ${path} for ${endpoint}`);
    }
  }

  /** One path, retried on 429, 5xx, timeouts and network errors. Resolves with a 2xx or a 404. */
  private async withRetries(endpoint: ApiEndpoint, path: string, options: GetOptions): Promise<Attempt> {
    const { retry, clock, logger, observer } = this.options;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attemptOnce(endpoint, path, options);
      let reason: RetryReason;
      let waitMs: number;
      let failure: AdminApiError;

      if ('error' in outcome) {
        failure = outcome.error;
        if (failure.kind !== 'timeout' && failure.kind !== 'network') throw failure;
        reason = failure.kind;
        waitMs = this.backoff(attempt);
      } else {
        const { status } = outcome;
        if ((status >= 200 && status < 300) || status === 404) return outcome;
        if (status === 429) {
          const retryAfterMs = parseRetryAfter(outcome.retryAfter, clock.now());
          failure = new AdminApiError(endpoint, 'rate_limited', `429 Too Many Requests from ${path}`, { status, retryAfterMs, path });
          if (retryAfterMs !== undefined && retryAfterMs > retry.maxRetryAfterMs) {
            throw new AdminApiError(
              endpoint,
              'rate_limited',
              `429 from ${path} with Retry-After ${formatDuration(retryAfterMs)}, longer than the client waits; the next refresh waits for it`,
              { status, retryAfterMs, path },
            );
          }
          reason = '429';
          waitMs = retryAfterMs ?? this.backoff(attempt);
        } else if (status >= 500) {
          failure = new AdminApiError(endpoint, 'http', `HTTP ${status} from ${path}: ${this.snippet(outcome.text)}`, { status, path });
          reason = '5xx';
          waitMs = this.backoff(attempt);
        } else {
          throw new AdminApiError(endpoint, 'http', `HTTP ${status} from ${path}: ${this.snippet(outcome.text)}`, { status, path });
        }
      }

      if (attempt >= retry.maxRetries) throw failure;
      observer.retry(endpoint, reason);
      logger.debug({ api_endpoint: endpoint, path, attempt: attempt + 1, reason, wait_ms: waitMs }, 'retrying Admin API request');
      try {
        await sleep(clock, waitMs, options.signal);
      } catch {
        throw this.aborted(endpoint, options.signal);
      }
    }
  }

  /** One HTTP request under the concurrency limit; errors come back as values to decide on retries. */
  private async attemptOnce(endpoint: ApiEndpoint, path: string, options: GetOptions): Promise<Attempt | { error: AdminApiError }> {
    const { signal } = options;
    if (signal?.aborted) throw this.aborted(endpoint, signal);
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(options.query ?? {}) as Array<[string, QueryValue]>) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    return this.limit(async () => {
      const key = this.options.apiKey.reveal();
      let status: number | undefined;
      try {
        const res = await this.dispatcher.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: 'GET',
          headers: {
            'x-api-key': key,
            authorization: `Bearer ${key}`,
            accept: 'application/json',
            'user-agent': this.options.userAgent,
          },
          signal,
        });
        status = res.statusCode;
        this.options.observer.request(endpoint, String(status));
        const length = Number(res.headers['content-length']);
        if (Number.isFinite(length) && length > this.options.maxResponseBytes) {
          res.body.destroy();
          return { error: this.tooLarge(endpoint, path, status) };
        }
        const retryAfter = res.headers['retry-after'];
        return { status, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, text: await res.body.text() };
      } catch (err) {
        if (signal?.aborted) throw this.aborted(endpoint, signal);
        if (status === undefined) this.options.observer.request(endpoint, 'error');
        return { error: this.classify(endpoint, path, status, err) };
      }
    });
  }

  /** Turns an undici or socket error into a clean error: no request options, headers or key inside. */
  private classify(endpoint: ApiEndpoint, path: string, status: number | undefined, err: unknown): AdminApiError {
    const code = (err as { code?: string }).code ?? '';
    if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return this.tooLarge(endpoint, path, status);
    const timeout = formatDuration(this.options.requestTimeoutMs);
    if (code === 'UND_ERR_CONNECT_TIMEOUT') return new AdminApiError(endpoint, 'timeout', `no connection to ${this.base.host} within ${timeout}`, { path });
    if (code === 'UND_ERR_HEADERS_TIMEOUT') return new AdminApiError(endpoint, 'timeout', `no answer from ${path} within ${timeout}`, { path });
    if (code === 'UND_ERR_BODY_TIMEOUT') return new AdminApiError(endpoint, 'timeout', `the answer of ${path} stalled for ${timeout}`, { path });
    const message = scrub(err instanceof Error ? err.message : String(err), [this.options.apiKey.reveal()]);
    return new AdminApiError(endpoint, 'network', `request to ${path} failed: ${code ? `${code} ` : ''}${message}`, { path });
  }

  private tooLarge(endpoint: ApiEndpoint, path: string, status: number | undefined): AdminApiError {
    return new AdminApiError(endpoint, 'too_large', `the answer of ${path} is larger than ${this.options.maxResponseBytes} bytes`, { status, path });
  }

  private aborted(endpoint: ApiEndpoint, signal: AbortSignal | undefined): AdminApiError {
    const reason = signal?.reason instanceof Error ? signal.reason.message : 'aborted';
    return new AdminApiError(endpoint, 'aborted', `gave up: ${reason}`);
  }

  /** Full jitter: a random wait up to base × 2^attempt, capped. */
  private backoff(attempt: number): number {
    const { baseDelayMs, maxDelayMs } = this.options.retry;
    return Math.round(this.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt));
  }

  /** The start of a body for an error message, on one line, without the key. */
  private snippet(text: string): string {
    const flat = text.replace(/\s+/g, ' ').trim();
    const short = flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}...` : flat;
    return scrub(short, [this.options.apiKey.reveal()]) || '(empty body)';
  }
}

/** Retry-After as delta seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
