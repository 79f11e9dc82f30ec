/**
 * A throwaway self-signed certificate for 127.0.0.1 (CN and subjectAltName IP, and any DNS names
 * asked for), made with the openssl command line in a temp dir at test time; never committed,
 * valid for one day.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  dir: string;
  certPath: string;
  keyPath: string;
  cert: Buffer;
  key: Buffer;
  remove(): void;
}

/** `ipAddresses`: more IP addresses the certificate names, beside 127.0.0.1. */
export function makeTestCertificate(dnsNames: string[] = [], ipAddresses: string[] = []): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'uasmedia-tls-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      `subjectAltName=${[
        'IP:127.0.0.1',
        ...ipAddresses.map((ip) => `IP:${ip}`),
        ...dnsNames.map((name) => `DNS:${name}`)
      ].join(',')}`,
      '-days',
      '1',
      '-keyout',
      keyPath,
      '-out',
      certPath
    ],
    { stdio: 'ignore' }
  );
  return {
    dir,
    certPath,
    keyPath,
    cert: readFileSync(certPath),
    key: readFileSync(keyPath),
    remove: () => rmSync(dir, { recursive: true, force: true })
  };
}
