import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';

/**
 * A throwaway PKI made with `openssl` at test time, in a temporary directory
 * (no private key is ever committed): a CA, server certificates for
 * localhost/127.0.0.1 and a client certificate. Validity runs from 2000 to
 * 2099 so that the suite passes under faketime at any date, and in a Go
 * program (Prometheus) that keeps the real time.
 */
export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  /** Issues a certificate for `cn` with the given SANs; returns the paths of its certificate and key. */
  issue(name: string, cn: string, sans: string, opts?: { client?: boolean }): { cert: string; key: string };
  /** A second CA, which signs nothing the servers trust. */
  otherCa(): { cert: string; key: string };
}

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const ca = join(dir, name);
  mkdirSync(ca, { recursive: true });
  writeFileSync(join(ca, 'index.txt'), '');
  writeFileSync(join(ca, 'serial'), '1000\n');
  writeFileSync(
    join(ca, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = ca_default',
      '[ca_default]',
      `database = ${join(ca, 'index.txt')}`,
      `new_certs_dir = ${ca}`,
      `serial = ${join(ca, 'serial')}`,
      'default_md = sha256',
      'policy = policy_any',
      'unique_subject = no',
      '[policy_any]',
      'commonName = supplied',
      '[req]',
      'distinguished_name = dn',
      '[dn]',
      '',
    ].join('\n'),
  );
  writeFileSync(join(ca, 'ca-ext.cnf'), 'basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\n');
  openssl(ca, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
  openssl(ca, ['req', '-new', '-key', 'ca.key', '-subj', `/CN=${name}`, '-out', 'ca.csr', '-config', 'ca.cnf']);
  openssl(ca, [
    'ca',
    '-batch',
    '-selfsign',
    '-config',
    'ca.cnf',
    '-keyfile',
    'ca.key',
    '-in',
    'ca.csr',
    '-out',
    'ca.crt',
    '-startdate',
    '20000101000000Z',
    '-enddate',
    '20991231235959Z',
    '-extfile',
    'ca-ext.cnf',
    '-notext',
  ]);
  return { cert: join(ca, 'ca.crt'), key: join(ca, 'ca.key') };
}

export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'mae-pki-'));
  const ca = makeCa(dir, 'test-ca');
  const caDir = join(dir, 'test-ca');
  return {
    dir,
    caCert: ca.cert,
    caKey: ca.key,
    issue(name, cn, sans, opts = {}) {
      const key = join(dir, `${name}.key`);
      const cert = join(dir, `${name}.crt`);
      openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
      openssl(dir, ['req', '-new', '-key', key, '-subj', `/CN=${cn}`, '-out', join(dir, `${name}.csr`), '-config', join(caDir, 'ca.cnf')]);
      writeFileSync(
        join(dir, `${name}-ext.cnf`),
        `basicConstraints = CA:FALSE\nsubjectAltName = ${sans}\nextendedKeyUsage = ${opts.client ? 'clientAuth' : 'serverAuth'}\n`,
      );
      openssl(caDir, [
        'ca',
        '-batch',
        '-config',
        'ca.cnf',
        '-cert',
        'ca.crt',
        '-keyfile',
        'ca.key',
        '-in',
        join(dir, `${name}.csr`),
        '-out',
        cert,
        '-startdate',
        '20000101000000Z',
        '-enddate',
        '20991231235959Z',
        '-extfile',
        join(dir, `${name}-ext.cnf`),
        '-notext',
      ]);
      return { cert, key };
    },
    otherCa: () => makeCa(dir, 'other-ca'),
  };
}

/** A bcrypt hash at the lowest cost: the format is what is tested, not the cost. */
export function bcryptHash(password: string): string {
  return bcrypt.hashSync(password, 4);
}

export function read(path: string): string {
  return readFileSync(path, 'utf8');
}
