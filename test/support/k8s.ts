/**
 * Checks of rendered Kubernetes objects: each against its model of the npm
 * packages kubernetes-models and @kubernetes-models/prometheus-operator
 * (their JSON schemas; a kind without a model is an error), plus what those
 * schemas leave out and the API server or the Prometheus Operator would
 * refuse: names, label syntax, and a ServiceMonitor's scrapeTimeout longer
 * than its interval.
 */
import type { Manifest } from './helm.js';

interface ModelClass {
  new (data: unknown): { validate(): void };
  apiVersion: string;
  kind: string;
}

/** Where a model of `apiVersion` lives: the package and its group/version folder. */
function modelModules(apiVersion: string, kind: string): string[] {
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  if (!/^[A-Z][A-Za-z0-9]*$/.test(kind) || !/^[a-z0-9.-]*$/.test(group) || !/^v[0-9a-z]+$/.test(version)) return [];
  const folder = group === '' ? version : `${group}/${version}`;
  return [`kubernetes-models/${folder}/${kind}`, `@kubernetes-models/prometheus-operator/${folder}/${kind}`];
}

const models = new Map<string, ModelClass | undefined>();

/** The model class of an apiVersion and kind, or undefined when neither package has one. */
export async function modelOf(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  const id = `${apiVersion}/${kind}`;
  if (models.has(id)) return models.get(id);
  let found: ModelClass | undefined;
  for (const spec of modelModules(apiVersion, kind)) {
    try {
      const mod = (await import(spec)) as Record<string, unknown>;
      const cls = mod[kind] as ModelClass | undefined;
      if (typeof cls === 'function' && cls.apiVersion === apiVersion && cls.kind === kind) {
        found = cls;
        break;
      }
    } catch {
      // Not in this package.
    }
  }
  models.set(id, found);
  return found;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A label or annotation key: an optional DNS-subdomain prefix and a name of at most 63 characters. */
function keyErrors(key: string): string[] {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const errors: string[] = [];
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) errors.push(`key ${JSON.stringify(key)}: bad prefix`);
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) errors.push(`key ${JSON.stringify(key)}: bad name`);
  return errors;
}

/** Prometheus' duration (as the Operator's CRDs write it) in milliseconds. */
export function prometheusDurationMs(text: string): number {
  const units: Record<string, number> = { y: 31_536_000_000, w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  const m = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
  if (!m || text === '') throw new Error(`not a Prometheus duration: ${text}`);
  return ['y', 'w', 'd', 'h', 'm', 's', 'ms'].reduce((sum, unit, i) => sum + Number(m[i + 1] ?? 0) * (units[unit] as number), 0);
}

type Obj = Record<string, unknown>;

/** Label and annotation syntax of a metadata (an object's, or its pod template's). */
function labelErrors(meta: Obj, where: string): string[] {
  const errors: string[] = [];
  for (const [field, map] of [
    ['labels', meta.labels],
    ['annotations', meta.annotations],
  ] as const) {
    for (const [k, v] of Object.entries((map ?? {}) as Obj)) {
      errors.push(...keyErrors(k).map((e) => `${where}.${field}: ${e}`));
      if (typeof v !== 'string') errors.push(`${where}.${field}.${k} is not a string`);
      else if (field === 'labels' && (v.length > 63 || !LABEL_VALUE.test(v)))
        errors.push(`${where}.labels.${k}: bad value ${JSON.stringify(v)}`);
    }
  }
  return errors;
}

function metadataErrors(o: Manifest): string[] {
  const errors: string[] = [];
  const meta = (o.metadata ?? {}) as Obj;
  const name = meta.name;
  if (typeof name !== 'string' || name === '') return ['metadata.name is missing'];
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) errors.push(`metadata.name ${JSON.stringify(name)} is not a DNS subdomain`);
  if (o.kind === 'Service' && (name.length > 63 || !DNS_1035_LABEL.test(name)))
    errors.push(`Service name ${JSON.stringify(name)} is not a DNS-1035 label`);
  const ns = meta.namespace;
  if (ns !== undefined && (typeof ns !== 'string' || ns.length > 63 || !DNS_LABEL.test(ns)))
    errors.push(`metadata.namespace ${JSON.stringify(ns)} is not a DNS label`);
  errors.push(...labelErrors(meta, 'metadata'));
  const podMeta = ((o.spec as Obj | undefined)?.template as Obj | undefined)?.metadata as Obj | undefined;
  if (podMeta !== undefined) errors.push(...labelErrors(podMeta, 'spec.template.metadata'));
  return errors;
}

/** What the Prometheus Operator refuses in a ServiceMonitor beyond its schema. */
function serviceMonitorErrors(o: Manifest): string[] {
  const errors: string[] = [];
  const endpoints = ((o.spec as Obj | undefined)?.endpoints ?? []) as Obj[];
  endpoints.forEach((e, i) => {
    if (typeof e.scrapeTimeout === 'string' && typeof e.interval === 'string') {
      if (prometheusDurationMs(e.scrapeTimeout) > prometheusDurationMs(e.interval)) {
        errors.push(`spec.endpoints[${i}]: scrapeTimeout ${e.scrapeTimeout} is longer than the interval ${e.interval}`);
      }
    }
  });
  return errors;
}

/** Every error found in one object; [] when it is valid. */
export async function objectErrors(o: Manifest): Promise<string[]> {
  const { apiVersion, kind } = o;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return ['no apiVersion or kind'];
  const model = await modelOf(apiVersion, kind);
  const errors: string[] = [];
  if (model === undefined) errors.push(`no model of ${apiVersion} ${kind} in kubernetes-models or @kubernetes-models/prometheus-operator`);
  else {
    try {
      new model(o).validate();
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  errors.push(...metadataErrors(o));
  if (kind === 'ServiceMonitor') errors.push(...serviceMonitorErrors(o));
  return errors;
}

/** The errors of every object, each prefixed with its kind and name. */
export async function manifestErrors(objects: readonly Manifest[]): Promise<string[]> {
  const out: string[] = [];
  for (const o of objects) {
    const name = `${String(o.kind)}/${String((o.metadata as Obj | undefined)?.name)}`;
    for (const e of await objectErrors(o)) out.push(`${name}: ${e}`);
  }
  return out;
}
