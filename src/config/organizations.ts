import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { SETTINGS, type Section, type SettingKey } from './settings.js';

/**
 * `--config.file`: several organizations read by one exporter. The file
 * lists them; each entry names one (its `org` label) and sets any setting
 * of the exporter by its environment variable's name, for that organization
 * only. What an entry leaves out comes from the flags, the environment and
 * the defaults, as for a single organization.
 *
 * ```yaml
 * organizations:
 *   - name: acme-prod
 *     MISTRAL_ADMIN_API_KEY_FILE: /etc/mistral/acme-prod/api-key
 *     MISTRAL_WORKSPACE_IDS: all
 *   - name: acme-labs
 *     MISTRAL_ADMIN_API_KEY_FILE: /etc/mistral/acme-labs/api-key
 *     REFRESH_INTERVAL: 10m
 * ```
 */
export interface OrganizationEntry {
  name: string;
  /** Settings by environment variable name: the text, and where it is (`FILE:LINE`). */
  settings: ReadonlyMap<string, { text: string; at: string }>;
  /** Where the entry is, for messages: `FILE:LINE`. */
  at: string;
}

/** Settings of the process (its listener, its logs), the same for every organization: an entry cannot set them. */
const PROCESS_SECTIONS: readonly Section[] = ['HTTP server', 'Logging'];

/** A name is a label value, a file name and a Kubernetes name alike. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** An `org` label of more organizations than this would be a fleet, not an exporter's worth (see the README on sharding). */
export const MAX_ORGANIZATIONS = 100;

const BY_ENV = new Map((Object.entries(SETTINGS) as Array<[SettingKey, (typeof SETTINGS)[SettingKey]]>).map(([key, s]) => [s.env, key]));

/** Whether an organization's entry may set this setting. */
export function perOrganization(key: SettingKey): boolean {
  return !PROCESS_SECTIONS.includes(SETTINGS[key].section);
}

/** The organizations of a config file's text. Throws Error with one line saying what to fix (the caller names the file). */
export function parseOrganizations(text: string, file: string): OrganizationEntry[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (node: Node | null | undefined) => {
    const offset = node?.range?.[0];
    return offset === undefined ? file : `${file}:${lines.linePos(offset).line}`;
  };
  const error = doc.errors[0];
  if (error !== undefined) {
    const line = error.linePos?.[0]?.line;
    throw new Error(`${file}${line === undefined ? '' : `:${line}`}: not valid YAML (${error.message.split('\n')[0]})`);
  }
  const root = doc.contents;
  if (!isMap(root)) throw new Error(`${file}: expected a mapping with an \`organizations\` list`);
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (key !== 'organizations')
      throw new Error(`${at(pair.key as Node)}: unknown key ${JSON.stringify(key)}: the file holds \`organizations\` only`);
  }
  const list = root.get('organizations', true);
  if (!isSeq(list) || list.items.length === 0) {
    throw new Error(`${at(list as Node)}: \`organizations\` must be a list of at least one organization`);
  }
  if (list.items.length > MAX_ORGANIZATIONS) {
    throw new Error(
      `${file}: ${list.items.length} organizations, more than ${MAX_ORGANIZATIONS}: shard them over several exporters (README)`,
    );
  }
  const seen = new Set<string>();
  return list.items.map((item, index) => {
    const where = at(item as Node);
    if (!isMap(item)) throw new Error(`${where}: organization ${index + 1} is not a mapping of name and settings`);
    let name: string | undefined;
    const settings = new Map<string, { text: string; at: string }>();
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const value = scalarText(pair.value as Node | null);
      const here = at(pair.key as Node);
      if (key === 'name') {
        if (value === undefined || !NAME.test(value)) {
          throw new Error(
            `${here}: name ${JSON.stringify(value ?? null)} must be 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit`,
          );
        }
        name = value;
        continue;
      }
      const setting = BY_ENV.get(key);
      if (setting === undefined) {
        throw new Error(
          `${here}: unknown setting ${JSON.stringify(key)}: an organization takes \`name\` and settings by their environment variable names (see --help)`,
        );
      }
      if (!perOrganization(setting)) {
        throw new Error(
          `${here}: ${key} is a setting of the whole process, not of one organization: set it in the environment or as a flag`,
        );
      }
      if (value === undefined) {
        if (isScalar(pair.value) && pair.value.value === null) continue;
        throw new Error(`${here}: ${key} must be a text, a number, a boolean or a list of texts`);
      }
      settings.set(key, { text: value, at: here });
    }
    if (name === undefined) throw new Error(`${where}: organization ${index + 1} has no name`);
    if (seen.has(name)) throw new Error(`${where}: two organizations are named ${JSON.stringify(name)}: names must differ`);
    seen.add(name);
    return { name, settings, at: where };
  });
}

/** A setting's value as the environment would give it: a scalar's text, a list's items joined by commas; undefined for anything else (and null). */
function scalarText(node: Node | null): string | undefined {
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(node.source ?? v);
    return undefined;
  }
  if (isSeq(node)) {
    const items = node.items.map((i) => scalarText(i as Node));
    if (items.some((i) => i === undefined || i.includes(','))) return undefined;
    return items.join(',');
  }
  return undefined;
}
