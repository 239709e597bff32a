import { scrub } from './secret.js';

/**
 * Replaces what names or identifies people and things of an organization in
 * Admin API answers by stable placeholders, so that the answers can be
 * attached to a bug report: the same input always gets the same placeholder
 * (within one Anonymizer), and the shape of the answer (fields, types,
 * nesting, numbers) is kept, which is what a bug report needs.
 *
 * - any email address, in any string or key: `user-0001@example.invalid`;
 * - any UUID, in any string or key: `id-0001`;
 * - values of fields named like ids (`id`, `uuid`, `*_id`, `*_ids`, `*_uuid`):
 *   `id-0001` (a number stays a number: 1, 2, ...);
 * - values of fields named like names (`name`, `*_name`, `username`, `owner`,
 *   `created_by`...): `name-0001`; of `email`, `*_email`: the email placeholder;
 *   of `description`: `text-0001`;
 * - every value inside a `*_metadata` map (the audit log's free-form details
 *   of who acted and on what: IP addresses, names under any key): `text-0001`;
 * - the secrets (the API key) nowhere: `[REDACTED]`, as in the logs; nor
 *   the API keys GET api-keys lists: any string under `key` or `hidden_key`
 *   (the masked key still shows 8 of its characters) is `[REDACTED]`.
 *
 * Names of the API's own things (model and tool names, billing display names)
 * are kept: they are the same for every organization, and bugs are about them.
 */
type Kind = 'id' | 'name' | 'email' | 'text' | 'secret';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const WHOLE_UUID = new RegExp(`^${UUID.source}$`, 'i');
const WHOLE_EMAIL = new RegExp(`^${EMAIL.source}$`);

const ID_FIELD = /^(?:id|ids|uuid|uuids)$|_(?:id|ids|uuid|uuids)$/;
const EMAIL_FIELD = /^(?:e_?mail|e_?mails)$|_e_?mails?$/;
const NAME_FIELD = /^(?:name|names|username|user|login|owner|author|created_by|updated_by|invited_by)$|_names?$/;
const TEXT_FIELD = /^description$/;
/** Free-form maps of strings (audit-logs' actor_metadata, event_metadata, target_metadata): anything may be in them. */
const METADATA_FIELD = /(^|_)metadata$/;
/** Fields holding an API key, whole (`key`, at creation) or masked (`hidden_key`). */
const SECRET_FIELD = /^(?:key|hidden_key)$/;
/** Fields that match the patterns above but name the API's own things. */
const KEPT_FIELDS = new Set(['billing_display_name', 'model_name', 'model_id', 'tool_name', 'tool_names']);

const PLACEHOLDER: Record<Kind, (n: string) => string> = {
  id: (n) => `id-${n}`,
  name: (n) => `name-${n}`,
  email: (n) => `user-${n}@example.invalid`,
  text: (n) => `text-${n}`,
  secret: () => '[REDACTED]',
};

/** `workspaceName`, `workspace-name` and `workspace_name` alike. */
function fieldName(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();
}

function kindOfField(key: string): Kind | undefined {
  const field = fieldName(key);
  if (KEPT_FIELDS.has(field)) return undefined;
  if (SECRET_FIELD.test(field)) return 'secret';
  if (EMAIL_FIELD.test(field)) return 'email';
  if (ID_FIELD.test(field)) return 'id';
  if (NAME_FIELD.test(field)) return 'name';
  if (TEXT_FIELD.test(field) || METADATA_FIELD.test(field)) return 'text';
  return undefined;
}

export class Anonymizer {
  readonly #secrets: readonly string[];
  readonly #seen: Record<Kind, Map<string, number>> = {
    id: new Map(),
    name: new Map(),
    email: new Map(),
    text: new Map(),
    secret: new Map(),
  };
  /** Numbers under id fields are counted apart: a numeric id stays a number, 1, 2, ... */
  readonly #numbers = new Map<number, number>();

  constructor(secrets: readonly string[]) {
    this.#secrets = secrets.filter((s) => s.length > 0);
  }

  /** A copy of a parsed JSON answer with placeholders in place of ids, names and emails. */
  json(value: unknown): unknown {
    return this.#value(value, undefined);
  }

  /** Free text (an error message): emails, UUIDs and secrets replaced. */
  text(text: string): string {
    const cleaned = scrub(text, this.#secrets);
    return cleaned
      .replace(EMAIL, (m) => this.#placeholder('email', m.toLowerCase()))
      .replace(UUID, (m) => this.#placeholder('id', m.toLowerCase()));
  }

  /** The placeholder of an id (e.g. a workspace id of the configuration, in a file name). */
  id(value: string): string {
    return this.#leaf('id', value);
  }

  #placeholder(kind: Kind, value: string): string {
    return PLACEHOLDER[kind](String(this.#number(kind, value)).padStart(4, '0'));
  }

  #number(kind: Kind, value: string): number {
    const seen = this.#seen[kind];
    let n = seen.get(value);
    if (n === undefined) {
      n = seen.size + 1;
      seen.set(value, n);
    }
    return n;
  }

  #numeric(value: number): number {
    let n = this.#numbers.get(value);
    if (n === undefined) {
      n = this.#numbers.size + 1;
      this.#numbers.set(value, n);
    }
    return n;
  }

  /** `kind`: set inside a field named like an id or a name, whose every leaf is replaced. */
  #value(value: unknown, kind: Kind | undefined): unknown {
    if (typeof value === 'string') return kind === undefined ? this.text(value) : this.#leaf(kind, value);
    if (typeof value === 'number') return kind === undefined ? value : this.#numeric(value);
    if (Array.isArray(value)) return value.map((v) => this.#value(v, kind));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(value)) out[this.text(key)] = this.#value(v, kind ?? kindOfField(key));
      return out;
    }
    return value; // null, booleans
  }

  #leaf(kind: Kind, value: string): string {
    const trimmed = value.trim();
    if (kind === 'secret') return PLACEHOLDER.secret('');
    if (trimmed === '') return value;
    // An email is an email wherever it is; a UUID under a name field is still an id.
    if (WHOLE_EMAIL.test(trimmed)) return this.#placeholder('email', trimmed.toLowerCase());
    if (WHOLE_UUID.test(trimmed)) return this.#placeholder('id', trimmed.toLowerCase());
    return this.#placeholder(kind, value);
  }
}
