import { inspect } from 'node:util';

const REDACTED = '[REDACTED]';

/**
 * A value that must never be printed: the admin key can change the spend
 * limit. Every way an object turns into text (String(), JSON, util.inspect,
 * pino) shows `[REDACTED]`; only `reveal()` gives the value: to the Admin
 * API client (its headers, and scrubbing what it logs), to the logger's
 * scrubbing at start, and, for the user-id hash key, to the HMAC.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/** A hex digit matched in either case. */
function hexDigit(d: string): string {
  return /[a-f]/.test(d) ? `[${d}${d.toUpperCase()}]` : d;
}

/**
 * A pattern for `secret` in every form it can be echoed in: as it is,
 * JSON-escaped (`\"`, `\\`, `\/`, `\u0041`, escaped again in a log line of
 * a log line), and URL-encoded by any encoder (`%2F` or `%2f`, some
 * characters encoded and others not). Each character of the secret matches
 * itself or one of its escapes.
 */
function secretPattern(secret: string): RegExp {
  const parts = [...secret].map((ch) => {
    const code = ch.codePointAt(0) as number;
    const literal = ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    if (code > 0xff) return literal;
    const [hi, lo] = code.toString(16).padStart(2, '0').split('') as [string, string];
    const alternatives = [`\\\\*${literal}`, `%${hexDigit(hi)}${hexDigit(lo)}`, `\\\\+u00${hexDigit(hi)}${hexDigit(lo)}`];
    return `(?:${alternatives.join('|')})`;
  });
  return new RegExp(parts.join(''), 'g');
}

const patterns = new Map<string, RegExp>();

/**
 * Replaces every occurrence of each secret in `text`, in each form it can be
 * echoed in (see secretPattern). Scrub first, cut after: a value cut before
 * it is scrubbed can keep the key's start.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length === 0) continue;
    let pattern = patterns.get(s);
    if (pattern === undefined) {
      pattern = secretPattern(s);
      // Secrets are one or two per process (more only if a key file is re-read): a small memo, cleared if it ever grows.
      if (patterns.size > 16) patterns.clear();
      patterns.set(s, pattern);
    }
    out = out.replace(pattern, REDACTED);
  }
  return out;
}

/**
 * Why `value` cannot be sent as an HTTP header value (both auth headers carry
 * the key), or undefined when it can. Only visible ASCII is accepted: a
 * space or control character would split or end the header, and anything
 * past ASCII is sent as bytes no server agrees on. The message never shows
 * the value.
 */
export function headerValueProblem(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x20 || code === 0x09) return `it contains a space or tab (character ${i + 1})`;
    if (code < 0x20 || code === 0x7f) return `it contains a control character (character ${i + 1})`;
    if (code > 0x7e) return `it contains a character that is not ASCII (character ${i + 1}), which cannot be sent in an HTTP header`;
  }
  return undefined;
}
