import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { createExporter, type Exporter } from '../src/exporter.js';
import { WebConfigError } from '../src/web-config.js';
import { captureLogs } from './support/logs.js';
import { ManualClock } from './support/manual-clock.js';
import { bcryptHash, makePki, read, type Pki } from './support/tls.js';

/**
 * The exporter's own listener with a web config, over real sockets: a real
 * TLS client (node:https with the test CA) against the real server, on
 * certificates made by openssl at test time.
 */
let pki: Pki;
let server: { cert: string; key: string };
let server2: { cert: string; key: string };
let client: { cert: string; key: string };
let stranger: { cert: string; key: string };
const ALICE = 'alice';
const PASSWORD = 'correct horse battery staple';
let aliceHash: string;

beforeAll(() => {
  pki = makePki();
  server = pki.issue('server', 'server-one', 'DNS:localhost,IP:127.0.0.1');
  server2 = pki.issue('server2', 'server-two', 'DNS:localhost,IP:127.0.0.1');
  client = pki.issue('client', 'prometheus', 'DNS:prometheus.monitoring.svc', { client: true });
  const other = pki.otherCa();
  // A client certificate from a CA the server does not trust.
  stranger = { cert: other.cert, key: other.key };
  aliceHash = bcryptHash(PASSWORD);
});

afterAll(() => {
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

let running: Exporter | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await running?.app.close();
  await running?.close();
  running = undefined;
});

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  /** SHA-256 fingerprint of the certificate the server presented. */
  fingerprint?: string;
}

/** One GET on a new connection (no keep-alive: a swapped certificate shows on the next connection). */
function get(url: string, options: RequestOptions = {}): Promise<Answer> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(u, { agent: false, ca: read(pki.caCert), ...options }, (res) => {
      const chunks: Buffer[] = [];
      const socket = res.socket as import('node:tls').TLSSocket;
      const fingerprint = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate().fingerprint256 : undefined;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers, fingerprint }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function basic(user: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

function fingerprintOf(certPath: string): string {
  return new X509Certificate(read(certPath)).fingerprint256;
}

let dirCount = 0;
/** A directory for one test's web config. */
function configDir(): string {
  const dir = join(pki.dir, `web-${++dirCount}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function writeConfig(dir: string, yaml: string): string {
  const path = join(dir, 'web-config.yml');
  writeFileSync(path, yaml);
  return path;
}

function tlsYaml(extra = '', certs = server): string {
  return `tls_server_config:\n  cert_file: ${certs.cert}\n  key_file: ${certs.key}\n${extra}`;
}

async function start(webConfigFile: string | undefined, env: Record<string, string> = {}) {
  const command = loadConfig({
    argv: [],
    env: {
      MISTRAL_ADMIN_API_KEY: 'web-test-key',
      // Never called: the refreshes are not started.
      MISTRAL_ADMIN_API_URL: 'http://127.0.0.1:9/api',
      ...(webConfigFile === undefined ? {} : { WEB_CONFIG_FILE: webConfigFile }),
      ...env,
    },
  });
  if (command.kind !== 'run') throw new Error('unexpected command');
  const logs = captureLogs();
  const clock = new ManualClock();
  const exporter = createExporter(command.config, { logger: logs.logger, clock, processMetrics: false });
  running = exporter;
  await exporter.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = exporter.app.server.address() as { port: number };
  return { exporter, logs, https: `https://localhost:${port}`, http: `http://127.0.0.1:${port}` };
}

describe('a web config that cannot be used stops the start, saying what to fix', () => {
  it.each<[string, (dir: string) => string, RegExp]>([
    ['a missing file', (dir) => join(dir, 'nope.yml'), /^cannot read the file \(ENOENT\)$/],
    ['not YAML', () => 'tls_server_config: [', /^not valid YAML/],
    ['an unknown field', () => 'tls_server_config:\n  cert_fil: x\n', /^tls_server_config\.cert_fil: not a field of the web config/],
    ['a certificate without its key', () => `tls_server_config:\n  cert_file: ${server.cert}\n`, /key_file \(or key\) is missing/],
    [
      'a missing certificate file',
      () => 'tls_server_config:\n  cert_file: nope.crt\n  key_file: nope.key\n',
      /cert_file="nope.crt": cannot read the file \(ENOENT\)/,
    ],
    [
      "a key that is not the certificate's",
      () => `tls_server_config:\n  cert_file: ${server.cert}\n  key_file: ${server2.key}\n`,
      /cert_file and key_file do not belong together/,
    ],
    ['an unknown TLS version', () => tlsYaml('  min_version: TLS14\n'), /min_version="TLS14": must be one of TLS10, TLS11, TLS12, TLS13/],
    ['an unknown client_auth_type', () => tlsYaml('  client_auth_type: Maybe\n'), /client_auth_type="Maybe": must be one of/],
    [
      'a verifying client_auth_type without a CA',
      () => tlsYaml('  client_auth_type: RequireAndVerifyClientCert\n'),
      /needs client_ca_file/,
    ],
    ['a password in place of a hash', () => 'basic_auth_users:\n  alice: hunter2\n', /^basic_auth_users\.alice: not a bcrypt hash/],
    ['rate_limit', () => 'rate_limit:\n  interval: 1s\n  burst: 5\n', /^rate_limit: not supported/],
  ])('%s', (_name, make, message) => {
    const dir = configDir();
    const made = make(dir);
    const path = made.startsWith('/') ? made : writeConfig(dir, made);
    const command = loadConfig({ argv: [], env: { MISTRAL_ADMIN_API_KEY: 'k', WEB_CONFIG_FILE: path } });
    if (command.kind !== 'run') throw new Error('unexpected command');
    let error: unknown;
    try {
      createExporter(command.config, { logger: captureLogs().logger, clock: new ManualClock() });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WebConfigError);
    // One line: the setting and file, then what to fix.
    expect((error as Error).message.startsWith(`WEB_CONFIG_FILE=${JSON.stringify(path)}: `)).toBe(true);
    expect((error as Error).message.slice(`WEB_CONFIG_FILE=${JSON.stringify(path)}: `.length)).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
    // The hash given is never repeated.
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('reads --web.config.file, the flag Prometheus users know', () => {
    const command = loadConfig({ argv: ['--web.config.file=/etc/web.yml'], env: { MISTRAL_ADMIN_API_KEY: 'k' } });
    expect(command.kind === 'run' && command.config.webConfigFile).toBe('/etc/web.yml');
  });
});

describe('TLS and basic authentication', () => {
  it('serves HTTPS with basic auth: good credentials pass, bad or absent ones get 401, plain HTTP gets nothing', async () => {
    const dir = configDir();
    const { https, http } = await start(writeConfig(dir, `${tlsYaml()}basic_auth_users:\n  ${ALICE}: ${aliceHash}\n`));

    const ok = await get(`${https}/metrics`, { headers: basic(ALICE, PASSWORD) });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('mistral_exporter_build_info');
    expect(ok.fingerprint).toBe(fingerprintOf(server.cert));

    const wrong = await get(`${https}/metrics`, { headers: basic(ALICE, 'wrong') });
    expect([wrong.status, wrong.headers['www-authenticate']]).toEqual([401, 'Basic']);
    expect(wrong.body).not.toContain('mistral_');
    expect((await get(`${https}/metrics`, { headers: basic('mallory', PASSWORD) })).status).toBe(401);
    expect((await get(`${https}/metrics`)).status).toBe(401);
    expect((await get(`${https}/metrics`, { headers: { authorization: 'Bearer x' } })).status).toBe(401);
    // Everything needs it, the status page and the probes too (WEB_OPEN_PROBES is off).
    expect((await get(`${https}/`)).status).toBe(401);
    expect((await get(`${https}/-/healthy`)).status).toBe(401);

    await expect(get(`${http}/metrics`, { headers: basic(ALICE, PASSWORD) })).rejects.toThrow();
  });

  it('verifies a password once: later scrapes with the same credentials cost no bcrypt hash', async () => {
    const dir = configDir();
    const { https } = await start(writeConfig(dir, `${tlsYaml()}basic_auth_users:\n  ${ALICE}: ${aliceHash}\n`));
    const hash = vi.spyOn(bcrypt, 'hash');
    for (let i = 0; i < 5; i++) expect((await get(`${https}/metrics`, { headers: basic(ALICE, PASSWORD) })).status).toBe(200);
    expect(hash).toHaveBeenCalledTimes(1);
    // A wrong password is never cached: each try costs a hash.
    for (let i = 0; i < 2; i++) expect((await get(`${https}/metrics`, { headers: basic(ALICE, 'nope') })).status).toBe(401);
    expect(hash).toHaveBeenCalledTimes(3);
  });

  it('leaves /-/healthy and /-/ready open for probes with WEB_OPEN_PROBES, and nothing else', async () => {
    const dir = configDir();
    const { https } = await start(writeConfig(dir, `${tlsYaml()}basic_auth_users:\n  ${ALICE}: ${aliceHash}\n`), {
      WEB_OPEN_PROBES: 'true',
    });
    expect((await get(`${https}/-/healthy`)).status).toBe(200);
    // Not ready (no refresh ran), but answered: not refused.
    expect((await get(`${https}/-/ready`)).status).toBe(503);
    expect((await get(`${https}/-/healthy?x=1`)).status).toBe(200);
    expect((await get(`${https}/metrics`)).status).toBe(401);
    expect((await get(`${https}/`)).status).toBe(401);
    expect((await get(`${https}/-/healthy/../metrics`)).status).toBe(401);
  });

  it('adds the headers of http_server_config', async () => {
    const dir = configDir();
    const { https } = await start(
      writeConfig(
        dir,
        `${tlsYaml()}http_server_config:\n  headers:\n    X-Frame-Options: deny\n    Strict-Transport-Security: max-age=31536000\n`,
      ),
    );
    const answer = await get(`${https}/metrics`);
    expect(answer.status).toBe(200);
    expect([answer.headers['x-frame-options'], answer.headers['strict-transport-security']]).toEqual(['deny', 'max-age=31536000']);
  });

  it('refuses a client below min_version', async () => {
    const dir = configDir();
    const { https } = await start(writeConfig(dir, tlsYaml('  min_version: TLS13\n')));
    await expect(get(`${https}/metrics`, { maxVersion: 'TLSv1.2' })).rejects.toThrow(/version|alert|protocol/i);
    expect((await get(`${https}/metrics`, { minVersion: 'TLSv1.3' })).status).toBe(200);
  });

  it('basic auth works over plain HTTP too (no tls_server_config)', async () => {
    const dir = configDir();
    const { http } = await start(writeConfig(dir, `basic_auth_users:\n  ${ALICE}: ${aliceHash}\n`));
    expect((await get(`${http}/metrics`, { headers: basic(ALICE, PASSWORD) })).status).toBe(200);
    expect((await get(`${http}/metrics`)).status).toBe(401);
  });
});

describe('a bearer token (WEB_BEARER_TOKEN_FILE)', () => {
  const TOKEN = 'scrape-token-Hq7Zr2Vx';

  it('is accepted beside basic auth; a wrong one or none gets 401', async () => {
    const dir = configDir();
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    const { https } = await start(writeConfig(dir, `${tlsYaml()}basic_auth_users:\n  ${ALICE}: ${aliceHash}\n`), {
      WEB_BEARER_TOKEN_FILE: join(dir, 'token'),
    });
    expect((await get(`${https}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await get(`${https}/metrics`, { headers: basic(ALICE, PASSWORD) })).status).toBe(200);
    expect((await get(`${https}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await get(`${https}/metrics`, { headers: { authorization: 'Bearer ' } })).status).toBe(401);
    expect((await get(`${https}/metrics`)).status).toBe(401);
  });

  it('works without a web config (plain HTTP), is re-read when it changes, and a broken new file keeps the old token', async () => {
    const dir = configDir();
    const file = join(dir, 'token');
    writeFileSync(file, TOKEN);
    const { exporter, http, logs } = await start(undefined, { WEB_BEARER_TOKEN_FILE: file });
    const bearer = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });
    const none = await get(`${http}/metrics`);
    expect([none.status, none.headers['www-authenticate']]).toEqual([401, 'Bearer']);
    expect((await get(`${http}/metrics`, bearer(TOKEN))).status).toBe(200);

    writeFileSync(file, 'rotated-token-Pw3');
    await exporter.pollFiles();
    await exporter.pollFiles();
    expect((await get(`${http}/metrics`, bearer('rotated-token-Pw3'))).status).toBe(200);
    expect((await get(`${http}/metrics`, bearer(TOKEN))).status).toBe(401);

    writeFileSync(file, '');
    await exporter.pollFiles();
    await exporter.pollFiles();
    expect((await get(`${http}/metrics`, bearer('rotated-token-Pw3'))).status).toBe(200);
    expect(logs.lines().find((l) => l.level === 'error')?.msg).toMatch(
      /WEB_BEARER_TOKEN_FILE=.*: the file is empty; .*keeping the token in use$/,
    );
    expect(logs.text()).not.toContain('rotated-token-Pw3');
  });

  it('an empty token file stops the start', () => {
    const dir = configDir();
    writeFileSync(join(dir, 'token'), '\n');
    const command = loadConfig({ argv: [], env: { MISTRAL_ADMIN_API_KEY: 'k', WEB_BEARER_TOKEN_FILE: join(dir, 'token') } });
    if (command.kind !== 'run') throw new Error('unexpected command');
    expect(() => createExporter(command.config, { logger: captureLogs().logger, clock: new ManualClock() })).toThrow(
      /^WEB_BEARER_TOKEN_FILE=".*": the file is empty; is the Secret mounted\?$/,
    );
  });
});

describe('client certificates (mTLS)', () => {
  const mtls = (extra = '') => tlsYaml(`  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${pki.caCert}\n${extra}`);

  it('RequireAndVerifyClientCert: a certificate of the CA passes; none, or one of another CA, is refused at the handshake', async () => {
    const dir = configDir();
    const { https } = await start(writeConfig(dir, mtls()));
    expect((await get(`${https}/metrics`, { cert: read(client.cert), key: read(client.key) })).status).toBe(200);
    await expect(get(`${https}/metrics`)).rejects.toThrow();
    await expect(get(`${https}/metrics`, { cert: read(stranger.cert), key: read(stranger.key) })).rejects.toThrow();
  });

  it('with WEB_OPEN_PROBES, probes need no certificate while /metrics still does', async () => {
    const dir = configDir();
    const { https } = await start(writeConfig(dir, mtls()), { WEB_OPEN_PROBES: 'true' });
    expect((await get(`${https}/-/healthy`)).status).toBe(200);
    const none = await get(`${https}/metrics`);
    expect([none.status, none.body]).toEqual([403, 'Forbidden: a client certificate is required\n']);
    expect((await get(`${https}/metrics`, { cert: read(stranger.cert), key: read(stranger.key) })).status).toBe(403);
    expect((await get(`${https}/metrics`, { cert: read(client.cert), key: read(client.key) })).status).toBe(200);
  });

  it('client_allowed_sans: a certificate of the CA must also name an allowed SAN', async () => {
    const dir = configDir();
    const { https } = await start(writeConfig(dir, mtls('  client_allowed_sans: [someone-else.example]\n')));
    const answer = await get(`${https}/metrics`, { cert: read(client.cert), key: read(client.key) });
    expect(answer.status).toBe(403);
    const allowed = configDir();
    await running?.app.close();
    const again = await start(writeConfig(allowed, mtls('  client_allowed_sans: [prometheus.monitoring.svc]\n')));
    expect((await get(`${again.https}/metrics`, { cert: read(client.cert), key: read(client.key) })).status).toBe(200);
  });
});

describe('re-reading the web config and its files, without a restart', () => {
  /**
   * Lays the files out as Kubernetes mounts a Secret: `tls.crt` and `tls.key`
   * are symlinks through `..data`, a symlink to a timestamped directory; an
   * update writes a new directory and renames a new `..data` over the old.
   */
  function secretVolume(dir: string, files: Record<string, string>): (next: Record<string, string>) => void {
    let generation = 0;
    const write = (contents: Record<string, string>): void => {
      const target = `..gen-${++generation}`;
      mkdirSync(join(dir, target));
      for (const [name, from] of Object.entries(contents)) copyFileSync(from, join(dir, target, name));
      symlinkSync(target, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    write(files);
    for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(dir, name));
    return write;
  }

  it('serves a renewed certificate (cert-manager swapping the Secret) on new connections', async () => {
    const dir = configDir();
    const volume = join(dir, 'tls');
    mkdirSync(volume);
    const update = secretVolume(volume, { 'tls.crt': server.cert, 'tls.key': server.key });
    const { exporter, https, logs } = await start(
      writeConfig(dir, 'tls_server_config:\n  cert_file: tls/tls.crt\n  key_file: tls/tls.key\n'),
    );
    expect((await get(`${https}/metrics`)).fingerprint).toBe(fingerprintOf(server.cert));

    update({ 'tls.crt': server2.cert, 'tls.key': server2.key });
    // A change is applied once it held still for one more poll.
    await exporter.pollFiles();
    expect((await get(`${https}/metrics`)).fingerprint).toBe(fingerprintOf(server.cert));
    await exporter.pollFiles();
    const renewed = await get(`${https}/metrics`);
    expect([renewed.status, renewed.fingerprint]).toEqual([200, fingerprintOf(server2.cert)]);
    expect(logs.lines().some((l) => l.msg.includes('changed and was applied') && l.certificate_subject === 'CN=server-two')).toBe(true);
  });

  it('takes new users at once, and keeps the previous config, saying why, when the new file is broken', async () => {
    const dir = configDir();
    const path = writeConfig(dir, `${tlsYaml()}basic_auth_users:\n  ${ALICE}: ${aliceHash}\n`);
    const { exporter, https, logs } = await start(path);
    const bobHash = bcryptHash('bob-password');
    writeConfig(dir, `${tlsYaml()}basic_auth_users:\n  ${ALICE}: ${aliceHash}\n  bob: ${bobHash}\n`);
    await exporter.pollFiles();
    await exporter.pollFiles();
    expect((await get(`${https}/metrics`, { headers: basic('bob', 'bob-password') })).status).toBe(200);

    // Broken: a password where a hash goes. Bob and Alice keep working, and the log says what is wrong.
    writeConfig(dir, `${tlsYaml()}basic_auth_users:\n  ${ALICE}: ${aliceHash}\n  bob: plain-text-password\n`);
    await exporter.pollFiles();
    await exporter.pollFiles();
    expect((await get(`${https}/metrics`, { headers: basic('bob', 'bob-password') })).status).toBe(200);
    const error = logs.lines().find((l) => l.level === 'error');
    expect(error?.msg).toMatch(/changed but cannot be used: basic_auth_users\.bob: not a bcrypt hash.*; keeping the previous one$/);
    expect(logs.text()).not.toContain('plain-text-password');
    expect(logs.text()).not.toContain(bobHash);

    // Removing a user takes effect even for credentials verified before.
    writeConfig(dir, `${tlsYaml()}basic_auth_users:\n  ${ALICE}: ${aliceHash}\n`);
    await exporter.pollFiles();
    await exporter.pollFiles();
    expect((await get(`${https}/metrics`, { headers: basic('bob', 'bob-password') })).status).toBe(401);
    expect((await get(`${https}/metrics`, { headers: basic(ALICE, PASSWORD) })).status).toBe(200);
  });

  it('turns client certificates on for new connections when client_auth_type changes', async () => {
    const dir = configDir();
    const { exporter, https } = await start(writeConfig(dir, tlsYaml()));
    expect((await get(`${https}/metrics`)).status).toBe(200);
    writeConfig(dir, tlsYaml(`  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${pki.caCert}\n`));
    await exporter.pollFiles();
    await exporter.pollFiles();
    await expect(get(`${https}/metrics`)).rejects.toThrow();
    expect((await get(`${https}/metrics`, { cert: read(client.cert), key: read(client.key) })).status).toBe(200);
  });

  it('keeps TLS as it started when the new config would turn it off, until a restart', async () => {
    const dir = configDir();
    const path = writeConfig(dir, tlsYaml());
    const { exporter, https, logs } = await start(path);
    writeConfig(dir, `basic_auth_users:\n  ${ALICE}: ${aliceHash}\n`);
    await exporter.pollFiles();
    await exporter.pollFiles();
    expect((await get(`${https}/metrics`)).status).toBe(200);
    expect(logs.lines().some((l) => l.level === 'error' && /turning TLS off takes a restart/.test(l.msg))).toBe(true);
  });
});
