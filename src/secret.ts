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

/** Replaces every occurrence of each secret in `text` (a last line of defence for logs). */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length > 0 && out.includes(s)) out = out.split(s).join(REDACTED);
  }
  return out;
}
