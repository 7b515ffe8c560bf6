/**
 * Tenant PKI throughput: leaf issuances and tenant-CA creations per second, single-threaded,
 * with a bounded number of iterations. A plain script (`node bench/pki/run.ts [leaves] [cas]`),
 * not a test: figures depend on the machine, so they are printed with its CPU count.
 *
 * Side by side: the same leaf issuance done the way shell-script PKIs do it, one `openssl req -x509
 * -CA` process per certificate with the same tenant CA files, reported as a ratio.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import {
  createRootCa, createTenantCa, issueLeafCertificate, loadAuthority, tenantNamePolicy, writePkiDirectory,
} from '../../src/pki/index.ts';

const leafIterations = Number(process.argv[2] ?? 500);
const caIterations = Number(process.argv[3] ?? 100);

async function measure(iterations: number, work: (index: number) => Promise<unknown>): Promise<number> {
  await work(-1); // warm-up: JIT and WebCrypto initialisation
  const started = performance.now();
  for (let index = 0; index < iterations; index++) await work(index);
  return iterations / ((performance.now() - started) / 1000);
}

const root = await loadAuthority(await createRootCa());
const acmeBundle = await createTenantCa(root, tenantNamePolicy('acme', ['*.acme.example']));
const acme = await loadAuthority(acmeBundle);
const opensslIterations = Math.min(leafIterations, 100);
const workDir = await mkdtemp(path.join(tmpdir(), 'landlord-pki-bench-'));

const leavesPerSecond = await measure(leafIterations, (index) =>
  issueLeafCertificate(acme, { dns: [`host-${index + 1}.acme.example`], uri: [`spiffe://acme.landlord.local/ns/bench/sa/sa-${index + 1}`] }));
const tenantCasPerSecond = await measure(caIterations, (index) =>
  createTenantCa(root, tenantNamePolicy(`tenant-${index + 1}`, [`*.tenant-${index + 1}.example`])));
await writePkiDirectory(path.join(workDir, 'acme'), acmeBundle);
const run = promisify(execFile);
const opensslPerSecond = await measure(opensslIterations, (index) =>
  run('openssl', [
    'req', '-new', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-subj', '/',
    '-addext', `subjectAltName=DNS:host-${index + 1}.acme.example`, '-CA', 'acme/tls.crt', '-CAkey', 'acme/tls.key', '-days', '90', '-out', 'leaf.crt',
  ], { cwd: workDir }));
await rm(workDir, { recursive: true, force: true });

console.log(`landlord pki bench — node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'})`);
console.log(`leaf issuance (new P-256 key + sign + PEM):  ${leavesPerSecond.toFixed(0)}/s over ${leafIterations}`);
console.log(`openssl req -x509 -CA, one process per leaf:  ${opensslPerSecond.toFixed(0)}/s over ${opensslIterations} (landlord/openssl = ${(leavesPerSecond / opensslPerSecond).toFixed(2)})`);
console.log(`tenant CA creation (key + sign + empty CRL): ${tenantCasPerSecond.toFixed(0)}/s over ${caIterations}`);
