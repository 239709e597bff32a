import type { Dispatcher } from 'undici';

/** Thrown (before anything is sent) for a request that is not a plain GET. */
export class ReadOnlyViolationError extends Error {
  override readonly name = 'ReadOnlyViolationError';
}

/**
 * The admin key can also change the spend limit (`POST /spend-limit`). This
 * interceptor is the one place that makes the exporter read-only: every
 * request the client's dispatcher carries goes through it, and anything but
 * a plain GET (no body, no protocol upgrade) is refused, by throwing,
 * before a byte is sent.
 */
export function getOnlyInterceptor(): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) =>
    function getOnly(options, handler) {
      const method = String(options.method ?? '').toUpperCase();
      if (method !== 'GET') {
        throw new ReadOnlyViolationError(
          `refused to send ${method || 'a request without a method'}: the exporter only ever reads the Admin API`,
        );
      }
      if (options.upgrade !== undefined && options.upgrade !== null && options.upgrade !== false) {
        throw new ReadOnlyViolationError('refused to send a GET with a protocol upgrade: the exporter only ever reads the Admin API');
      }
      if (options.body !== undefined && options.body !== null) {
        throw new ReadOnlyViolationError('refused to send a GET with a body: the exporter only ever reads the Admin API');
      }
      return dispatch(options, handler);
    };
}

/** `dispatcher` composed with the GET-only guard; every request the client sends goes through this. */
export function getOnly(dispatcher: Dispatcher): Dispatcher {
  return dispatcher.compose(getOnlyInterceptor());
}
