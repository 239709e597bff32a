/** Faults injected per endpoint, consumed in the order they were set. */
import type { SimEndpoint } from './routes.js';

export type Fault =
  /** `encoding`: the body is sent compressed with that content-encoding, asked for or not (as some proxies do). */
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string>; encoding?: 'gzip' | 'br' }
  /**
   * An answer that echoes the key the request carried (x-api-key, else the
   * bearer token) back: in `body`, `{key}` is the key as sent, `{key:json}`
   * JSON-escaped (inside a JSON string), `{key:url}` URL-encoded.
   */
  | { kind: 'echo-key'; status: number; body: string; headers?: Record<string, string> }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' }
  | { kind: 'malformed'; variant: 'truncated-json' | 'not-json' | 'wrong-shape' | 'empty' | 'deep-nesting' }
  | { kind: 'huge'; bytes: number }
  | { kind: 'reset' }
  /** The status line, headers and half the normal body, then a reset. */
  | { kind: 'cut' }
  /** The status line and headers of the normal answer, then silence until the client gives up. */
  | { kind: 'silence' }
  /** The normal answer, one byte every `everyMs` (real time), until the client gives up or it is all sent. */
  | { kind: 'trickle'; everyMs: number };

interface QueuedFault {
  readonly fault: Fault;
  remaining: number;
}

export class FaultQueue {
  private readonly queues = new Map<SimEndpoint, QueuedFault[]>();

  /**
   * Queues `fault` for the next `times` requests of `endpoint` (default: all,
   * until cleared). Faults set earlier for the same endpoint apply first, so
   * `set(e, 500, 2); set(e, 429, 1)` gives 500, 500, 429, then normal answers.
   */
  set(endpoint: SimEndpoint, fault: Fault, times?: number): void {
    if (times !== undefined && (!Number.isInteger(times) || times < 1))
      throw new RangeError(`times must be a positive integer, got ${times}`);
    const queue = this.queues.get(endpoint) ?? [];
    queue.push({ fault, remaining: times ?? Number.POSITIVE_INFINITY });
    this.queues.set(endpoint, queue);
  }

  clear(): void {
    this.queues.clear();
  }

  /** The fault for this request of `endpoint`, if any, counting it as used. */
  take(endpoint: SimEndpoint): Fault | undefined {
    const queue = this.queues.get(endpoint);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    return head.fault;
  }
}
