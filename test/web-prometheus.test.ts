import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { createExporter, type Exporter } from '../src/exporter.js';
import { createLogger } from '../src/logger.js';
import { startPrometheus, type RunningPrometheus } from './support/prometheus.js';
import { hasTool } from './support/tools.js';
import { bcryptHash, makePki, type Pki } from './support/tls.js';

/**
 * A real Prometheus (Debian's package) scraping the exporter over HTTPS with
 * basic authentication, as a user would configure it: `scheme: https`,
 * `tls_config.ca_file`, `basic_auth`. A second job with a wrong password
 * shows the listener refusing it.
 */
const enabled = hasTool('prometheus');
const PASSWORD = 'scrape-password-Qm3';

interface Target {
  labels: { job: string };
  health: string;
  lastError: string;
}

describe.runIf(enabled)('a real Prometheus scraping over TLS with basic auth', () => {
  let pki: Pki;
  let exporter: Exporter | undefined;
  let prometheus: RunningPrometheus | undefined;
  let promUrl = '';

  beforeAll(async () => {
    pki = makePki();
    const server = pki.issue('server', 'exporter', 'DNS:localhost,IP:127.0.0.1');
    const dir = join(pki.dir, 'prometheus');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'web-config.yml'),
      `tls_server_config:\n  cert_file: ${server.cert}\n  key_file: ${server.key}\nbasic_auth_users:\n  prometheus: ${bcryptHash(PASSWORD)}\n`,
    );
    const command = loadConfig({
      argv: [],
      env: { MISTRAL_ADMIN_API_KEY: 'k', MISTRAL_ADMIN_API_URL: 'http://127.0.0.1:9/api', WEB_CONFIG_FILE: join(dir, 'web-config.yml') },
    });
    if (command.kind !== 'run') throw new Error('unexpected');
    exporter = createExporter(command.config, { logger: createLogger({ level: 'error' }) });
    await exporter.app.listen({ host: '127.0.0.1', port: 0 });
    const target = new URL(exporter.app.listeningOrigin).host;
    writeFileSync(join(dir, 'password'), PASSWORD);
    writeFileSync(join(dir, 'wrong-password'), 'not-it');
    const job = (name: string, passwordFile: string) =>
      `  - job_name: ${name}\n    scheme: https\n    tls_config: {ca_file: ${JSON.stringify(pki.caCert)}}\n` +
      `    basic_auth: {username: prometheus, password_file: ${JSON.stringify(passwordFile)}}\n` +
      `    static_configs: [{targets: [${JSON.stringify(target)}]}]\n`;
    prometheus = await startPrometheus(
      dir,
      `global: {scrape_interval: 1s}\nscrape_configs:\n${job('exporter-tls', join(dir, 'password'))}${job('exporter-wrong-password', join(dir, 'wrong-password'))}`,
    );
    promUrl = prometheus.url;
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await exporter?.app.close();
    await exporter?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  async function targets(): Promise<Target[]> {
    const res = await fetch(`${promUrl}/api/v1/targets`);
    return ((await res.json()) as { data: { activeTargets: Target[] } }).data.activeTargets;
  }

  it('scrapes it: up == 1 with the password, 401 without', async () => {
    let seen: Target[] = [];
    for (let i = 0; i < 120; i++) {
      seen = await targets().catch(() => []);
      if (seen.length === 2 && seen.every((t) => t.health !== 'unknown')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const byJob = Object.fromEntries(seen.map((t) => [t.labels.job, t]));
    expect([byJob['exporter-tls']?.health, byJob['exporter-tls']?.lastError], prometheus?.log.join('')).toEqual(['up', '']);
    expect(byJob['exporter-wrong-password']?.health).toBe('down');
    expect(byJob['exporter-wrong-password']?.lastError).toMatch(/401/);

    let up: string | undefined;
    for (let i = 0; i < 40 && up !== '1'; i++) {
      const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('up{job="exporter-tls"}')}`);
      const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
      up = body.data.result[0]?.value[1];
      if (up !== '1') await new Promise((r) => setTimeout(r, 250));
    }
    expect(up).toBe('1');
    const res = await fetch(
      `${promUrl}/api/v1/query?query=${encodeURIComponent('count(mistral_exporter_build_info{job="exporter-tls"})')}`,
    );
    const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
    expect(body.data.result[0]?.value[1]).toBe('1');
  }, 60_000);
});
