/**
 * The web config file of the exporter's own listener, in the format of the
 * Prometheus exporter-toolkit (`--web.config.file`): `tls_server_config`,
 * `http_server_config` and `basic_auth_users`. This module reads and checks
 * it, files included; `web-listener.ts` applies it.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { parse as parseYaml } from 'yaml';

/** A web config that cannot be used: the message says what to fix, in one line. */
export class WebConfigError extends Error {
  override readonly name = 'WebConfigError';
}

/** Go's crypto/tls client authentication policies, as the exporter-toolkit names them. */
export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
type TlsVersionName = keyof typeof TLS_VERSIONS;

/** Go's names of the TLS 1.0–1.2 cipher suites it supports, and OpenSSL's. TLS 1.3 suites are not configurable (as in Go). */
const CIPHER_SUITES: Record<string, string> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};
/** Kept whatever cipher_suites says: Go does not let TLS 1.3's be chosen, and OpenSSL without them would turn TLS 1.3 off. */
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

const CURVES: Record<string, string> = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' };

/** The response headers http_server_config.headers may set, and the values some of them may take. */
const HEADERS: Record<string, readonly string[] | undefined> = {
  'Content-Security-Policy': undefined,
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-Content-Type-Options': ['nosniff'],
  'X-XSS-Protection': undefined,
  'Strict-Transport-Security': undefined,
};

/** A bcrypt hash as htpasswd -B, Python's bcrypt, bcryptjs and Go write it. */
const BCRYPT_RE = /^\$2[aby]?\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;

export interface TlsSettings {
  /** For https.createServer and setSecureContext. */
  context: SecureContextOptions;
  clientAuth: ClientAuthType;
  /** The client certificate must name one of these in its SANs; empty: any. */
  allowedSans: readonly string[];
  /** Of the serving certificate, for the log. */
  certificate: { subject: string; validTo: string; fingerprint256: string };
}

export interface WebConfig {
  /** Undefined: plain HTTP. */
  tls: TlsSettings | undefined;
  /** User name → bcrypt hash; empty: no basic authentication. */
  users: ReadonlyMap<string, string>;
  /** Response headers of http_server_config.headers. */
  headers: Readonly<Record<string, string>>;
  /** The files it was read from (the config file first), to watch for changes. */
  files: readonly string[];
}

type Read = (path: string) => string;

/** Reads and checks the web config at `path`, and every file it names (relative paths are relative to it). */
export function loadWebConfig(path: string, read: Read = (p) => readFileSync(p, 'utf8')): WebConfig {
  let text: string;
  try {
    text = read(path);
  } catch (err) {
    throw new WebConfigError(`cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    throw new WebConfigError(`not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseWebConfig(doc ?? {}, { dir: dirname(resolve(path)), read, file: resolve(path) });
}

interface Context {
  dir: string;
  read: Read;
  file: string;
}

function parseWebConfig(doc: unknown, ctx: Context): WebConfig {
  const top = mapping(doc, '(the file)');
  const files = [ctx.file];
  onlyKeys(top, '', ['tls_server_config', 'http_server_config', 'basic_auth_users', 'rate_limit']);
  if (top.rate_limit !== undefined && top.rate_limit !== null) {
    throw new WebConfigError('rate_limit: not supported by this exporter; remove it (a proxy in front can limit rates)');
  }
  const tls = top.tls_server_config == null ? undefined : parseTls(mapping(top.tls_server_config, 'tls_server_config'), ctx, files);
  const headers: Record<string, string> = {};
  if (top.http_server_config != null) {
    const http = mapping(top.http_server_config, 'http_server_config');
    onlyKeys(http, 'http_server_config.', ['http2', 'headers']);
    if (http.http2 != null && typeof http.http2 !== 'boolean') throw new WebConfigError('http_server_config.http2: must be true or false');
    if (http.headers != null) {
      const given = mapping(http.headers, 'http_server_config.headers');
      onlyKeys(given, 'http_server_config.headers.', Object.keys(HEADERS));
      for (const [name, value] of Object.entries(given)) {
        if (value == null || value === '') continue;
        const text = str(value, `http_server_config.headers.${name}`);
        const allowed = HEADERS[name];
        if (allowed !== undefined && !allowed.includes(text.toLowerCase())) {
          throw new WebConfigError(`http_server_config.headers.${name}: must be one of ${allowed.join(', ')}`);
        }
        // biome-ignore lint/suspicious/noControlCharactersInRegex: a header value cannot hold them
        if (/[\u0000-\u001f\u007f]/.test(text)) throw new WebConfigError(`http_server_config.headers.${name}: contains control characters`);
        headers[name] = text;
      }
    }
  }
  const users = new Map<string, string>();
  if (top.basic_auth_users != null) {
    for (const [user, hash] of Object.entries(mapping(top.basic_auth_users, 'basic_auth_users'))) {
      if (user === '' || user.includes(':'))
        throw new WebConfigError(`basic_auth_users: ${JSON.stringify(user)} cannot be a user name (empty, or with a colon)`);
      // The hash itself is never repeated in a message.
      if (typeof hash !== 'string' || !BCRYPT_RE.test(hash)) {
        throw new WebConfigError(
          `basic_auth_users.${user}: not a bcrypt hash (make one with: htpasswd -nBC 10 "" | tr -d ':\\n'); the password itself never goes in this file`,
        );
      }
      users.set(user, hash);
    }
  }
  return { tls, users, headers, files };
}

function parseTls(cfg: Record<string, unknown>, ctx: Context, files: string[]): TlsSettings | undefined {
  const where = 'tls_server_config.';
  onlyKeys(cfg, where, [
    'cert',
    'key',
    'client_ca',
    'cert_file',
    'key_file',
    'client_ca_file',
    'client_auth_type',
    'client_allowed_sans',
    'min_version',
    'max_version',
    'cipher_suites',
    'prefer_server_cipher_suites',
    'curve_preferences',
  ]);
  const opt = (key: string): string | undefined => {
    const v = cfg[key];
    return v == null || v === '' ? undefined : str(v, `${where}${key}`);
  };
  // As the exporter-toolkit: a tls_server_config with nothing in it means plain HTTP.
  if (['cert', 'key', 'client_ca', 'cert_file', 'key_file', 'client_ca_file', 'client_auth_type'].every((k) => opt(k) === undefined)) {
    return undefined;
  }
  const pem = (inline: string, fileKey: string, required: boolean): string | undefined => {
    const text = opt(inline);
    const file = opt(fileKey);
    if (text !== undefined && file !== undefined)
      throw new WebConfigError(`${where}${inline} and ${where}${fileKey} are both set: keep one`);
    if (text !== undefined) return text;
    if (file === undefined) {
      if (required) throw new WebConfigError(`${where}${fileKey} (or ${inline}) is missing: TLS needs a certificate and its key`);
      return undefined;
    }
    const path = resolve(ctx.dir, file);
    files.push(path);
    try {
      return ctx.read(path);
    } catch (err) {
      throw new WebConfigError(
        `${where}${fileKey}=${JSON.stringify(file)}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  };
  const cert = pem('cert', 'cert_file', true) as string;
  const key = pem('key', 'key_file', true) as string;
  const ca = pem('client_ca', 'client_ca_file', false);

  const clientAuth = (opt('client_auth_type') ?? 'NoClientCert') as ClientAuthType;
  if (!CLIENT_AUTH_TYPES.includes(clientAuth)) {
    throw new WebConfigError(`${where}client_auth_type=${JSON.stringify(clientAuth)}: must be one of ${CLIENT_AUTH_TYPES.join(', ')}`);
  }
  if (ca !== undefined && clientAuth === 'NoClientCert') {
    throw new WebConfigError(
      `${where}client_ca_file is set but client_auth_type is NoClientCert: set client_auth_type: RequireAndVerifyClientCert`,
    );
  }
  if (ca === undefined && (clientAuth === 'RequireAndVerifyClientCert' || clientAuth === 'VerifyClientCertIfGiven')) {
    throw new WebConfigError(`${where}client_auth_type ${clientAuth} needs client_ca_file: the CA that signs the client certificates`);
  }
  const allowedSans = list(cfg.client_allowed_sans, `${where}client_allowed_sans`);
  if (allowedSans.length > 0 && clientAuth !== 'RequireAnyClientCert' && clientAuth !== 'RequireAndVerifyClientCert') {
    throw new WebConfigError(`${where}client_allowed_sans needs client_auth_type RequireAndVerifyClientCert (or RequireAnyClientCert)`);
  }

  const version = (k: 'min_version' | 'max_version', dflt: TlsVersionName): TlsVersionName => {
    const v = opt(k) ?? dflt;
    if (!(v in TLS_VERSIONS))
      throw new WebConfigError(`${where}${k}=${JSON.stringify(v)}: must be one of ${Object.keys(TLS_VERSIONS).join(', ')}`);
    return v as TlsVersionName;
  };
  const min = version('min_version', 'TLS12');
  const max = version('max_version', 'TLS13');
  if (min > max) throw new WebConfigError(`${where}min_version ${min} is above max_version ${max}`);

  const context: SecureContextOptions = {
    cert,
    key,
    minVersion: TLS_VERSIONS[min],
    maxVersion: TLS_VERSIONS[max],
    honorCipherOrder:
      cfg.prefer_server_cipher_suites == null ? true : bool(cfg.prefer_server_cipher_suites, `${where}prefer_server_cipher_suites`),
  };
  if (ca !== undefined) context.ca = ca;
  const suites = list(cfg.cipher_suites, `${where}cipher_suites`);
  if (suites.length > 0) {
    const names = suites.map((s) => {
      const name = CIPHER_SUITES[s];
      if (name === undefined && !TLS13_SUITES.includes(s)) {
        throw new WebConfigError(
          `${where}cipher_suites: ${s} is not a TLS 1.2 cipher suite Go names (e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)`,
        );
      }
      return name;
    });
    context.ciphers = [...TLS13_SUITES, ...names.filter((n) => n !== undefined)].join(':');
  }
  const curves = list(cfg.curve_preferences, `${where}curve_preferences`);
  if (curves.length > 0) {
    context.ecdhCurve = curves
      .map((c) => {
        const name = CURVES[c];
        if (name === undefined) throw new WebConfigError(`${where}curve_preferences: ${c} is not one of ${Object.keys(CURVES).join(', ')}`);
        return name;
      })
      .join(':');
  }

  let certificate: TlsSettings['certificate'];
  try {
    const x509 = new X509Certificate(cert);
    certificate = { subject: x509.subject.replace(/\n/g, ', '), validTo: x509.validTo, fingerprint256: x509.fingerprint256 };
  } catch {
    throw new WebConfigError(`${where}cert_file: not a PEM certificate`);
  }
  if (ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch {
      throw new WebConfigError(`${where}client_ca_file: not a PEM certificate`);
    }
  }
  try {
    // Fails here, not at the first connection, on a key that is not the certificate's or that cannot be read.
    createSecureContext(context);
  } catch (err) {
    const message = (err as Error).message;
    if (/key values mismatch/i.test(message))
      throw new WebConfigError(`${where}cert_file and key_file do not belong together (the key is not the certificate's)`);
    if (/no start line|bad decrypt|PEM|DECODER/i.test(message))
      throw new WebConfigError(`${where}key_file: not a PEM private key without a passphrase`);
    throw new WebConfigError(`${where}: the certificate, key or settings were refused: ${message}`);
  }
  return { context, clientAuth, allowedSans, certificate };
}

function mapping(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new WebConfigError(`${what}: must be a mapping of keys to values`);
  return v as Record<string, unknown>;
}

function onlyKeys(m: Record<string, unknown>, prefix: string, known: readonly string[]): void {
  for (const key of Object.keys(m)) {
    if (!known.includes(key)) throw new WebConfigError(`${prefix}${key}: not a field of the web config (known: ${known.join(', ')})`);
  }
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new WebConfigError(`${what}: must be a string`);
  return v;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw new WebConfigError(`${what}: must be true or false`);
  return v;
}

function list(v: unknown, what: string): string[] {
  if (v == null) return [];
  if (!Array.isArray(v)) throw new WebConfigError(`${what}: must be a list`);
  return v.map((x, i) => str(x, `${what}[${i}]`));
}
