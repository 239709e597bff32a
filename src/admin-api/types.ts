import type { ApiEndpoint } from '../endpoints.js';

/** Why a request was tried again; the `reason` label of `mistral_exporter_api_retries_total`. */
export type RetryReason = '429' | '5xx' | 'timeout' | 'network';

/**
 * How a failed call ended, for the scheduler's decisions and log lines:
 * - `http`: a non-2xx status that is final (4xx but 404/429, or 5xx after the
 *   retries); `status` is set.
 * - `rate_limited`: 429 with a Retry-After longer than the client may wait,
 *   or still 429 after the retries; `retryAfterMs` is set when the server said.
 * - `not_found`: every known path variant answered 404.
 * - `timeout`, `network`: no usable answer, after the retries.
 * - `too_large`: the body passed MAX_RESPONSE_SIZE; not read further.
 * - `invalid_json`: the body is not JSON (a parse error).
 * - `aborted`: the refresh deadline passed (or shutdown) while waiting.
 */
export type AdminApiErrorKind = 'http' | 'rate_limited' | 'not_found' | 'timeout' | 'network' | 'too_large' | 'invalid_json' | 'aborted';

export class AdminApiError extends Error {
  override readonly name = 'AdminApiError';
  constructor(
    readonly endpoint: ApiEndpoint,
    readonly kind: AdminApiErrorKind,
    message: string,
    readonly details: {
      status?: number;
      retryAfterMs?: number;
      path?: string;
      /** A network error's system or undici code (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED...). */
      code?: string;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  get status(): number | undefined {
    return this.details.status;
  }
}

/** Receives one call per HTTP request and per retry; feeds the exporter's own metrics. */
export interface ClientObserver {
  /** `code` is the HTTP status as a string, or `error` for a network error or timeout. */
  request(endpoint: ApiEndpoint, code: string): void;
  retry(endpoint: ApiEndpoint, reason: RetryReason): void;
  /** The path variant now in use for `endpoint` (called when it is first found or changes). */
  pathInUse(endpoint: ApiEndpoint, path: string): void;
}

/** A query parameter's value; a list is sent as the parameter repeated (`event_type=a&event_type=b`), as FastAPI reads an array. */
export type QueryValue = string | number | undefined | readonly string[];

export interface GetOptions {
  query?: Record<string, QueryValue>;
  /** Aborts the call, retries and backoff waits included (the refresh deadline). */
  signal?: AbortSignal;
  /** Give the answer's `digest`. */
  digest?: boolean;
  /**
   * With `digest`: when the answer's digest is this one (an answer had
   * before), its bytes are neither decoded nor parsed: the response says
   * `unchanged` and has no body.
   */
  unlessDigest?: string;
}

export interface ApiResponse {
  /** The parsed JSON body, not yet validated: sources parse it tolerantly. */
  body: unknown;
  status: number;
  /** The path variant that answered, relative to the base URL. */
  path: string;
  /** With `GetOptions.digest`: the SHA-256 of the answer's bytes (hex), to tell an answer the same as an earlier one. */
  digest?: string;
  /** The answer's digest was `GetOptions.unlessDigest`: `body` is undefined, nothing of the answer was read. */
  unchanged?: true;
}

export interface AdminApi {
  get(endpoint: ApiEndpoint, options?: GetOptions): Promise<ApiResponse>;
}

export interface RetryPolicy {
  /** Retries after the first attempt (so attempts = retries + 1). */
  maxRetries: number;
  /** First backoff; doubles each retry, full jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** The longest Retry-After the client waits; a longer one ends the call as `rate_limited`. */
  maxRetryAfterMs: number;
}
