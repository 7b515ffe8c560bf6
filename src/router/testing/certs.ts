/**
 * Test support: a throwaway CA and leaf certificates made with the openssl CLI at test time
 * (never committed), in a temporary directory removed by `cleanup()`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: Buffer;
  /** Issues a leaf for these DNS names; returns file paths and contents. */
  leaf(name: string, dnsNames: readonly string[]): { certFile: string; keyFile: string; cert: Buffer; key: Buffer };
  cleanup(): void;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'landlord-router-pki-'));
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=landlord router test CA'], dir);
  const caFile = path.join(dir, 'ca.crt');
  return {
    dir,
    caFile,
    ca: readFileSync(caFile),
    leaf(name, dnsNames) {
      writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${dnsNames.map((n) => `DNS:${n}`).join(',')}\n`);
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${dnsNames[0] ?? name}`], dir);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`], dir);
      const certFile = path.join(dir, `${name}.crt`);
      const keyFile = path.join(dir, `${name}.key`);
      return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
