/**
 * `landlord pki …`: the tenant PKI on files, without a cluster. Wiring only: every decision and
 * every file format lives in src/pki.
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import {
  createRevocationList, createRootCa, createTenantCa, formatInspection, inspectPem, isDirectory, issueLeafCertificate, keyAlgorithms,
  loadAuthority, pemFileNames, readPemFile, readPkiDirectory, readPkiFiles, revokeCertificate, signCertificateRequest, tenantNamePolicy,
  writePkiDirectory, writeRevocationList, type IssueOptions, type KeyAlgorithm, type PemBundle,
} from '../../pki/index.ts';

interface CommonOptions {
  out: string;
  force?: boolean;
  days?: number;
  keyAlgorithm?: KeyAlgorithm;
}

const files = `A PKI directory holds PEM files named like cert-manager's Secret keys:
  tls.crt  the certificate, then its chain (never the root)
  tls.key  its private key (mode 0600; never overwritten without --force)
  ca.crt   the trust anchor: the root for a tenant CA, the tenant CA for a leaf
  ca.crl   for CAs, the revocation list they sign`;

export function registerPkiCommands(program: Command): void {
  const pki = program
    .command('pki')
    .description('Create the platform root CA and tenant CAs, issue, revoke and inspect certificates (files in, files out).')
    .addHelpText('after', `\n${files}\n\nSee docs/pki.md.`);

  withCommonOptions(pki.command('init-root'))
    .description('Create the platform root CA (ECDSA P-256 by default, 10 years) in --out.')
    .addHelpText('after', '\nExample:\n  landlord pki init-root --out pki/root')
    .action(async (options: CommonOptions) => {
      await write(options.out, await createRootCa(issueOptions(options)), options);
    });

  withCommonOptions(pki.command('tenant-ca'))
    .description('Create a tenant\'s intermediate CA, signed by the root, name-constrained to the tenant\'s domains.')
    .requiredOption('--root <dir>', 'the root CA directory (from init-root)')
    .requiredOption('--tenant <name>', 'the tenant name (a DNS label, e.g. acme)')
    .requiredOption('--domain <domain>', 'a domain the tenant owns, "*.acme.example" or "acme.example"; repeat for more', collect, [])
    .option('--trust-domain <domain>', 'the platform SPIFFE trust domain; the tenant gets <tenant>.<domain>', 'landlord.local')
    .addHelpText('after', `
The CA may sign only names under its domains and workload identities
spiffe://<tenant>.<trust domain>/…, enforced by a critical NameConstraints extension.

Example:
  landlord pki tenant-ca --root pki/root --tenant acme --domain '*.acme.example' --out pki/acme`)
    .action(async (options: CommonOptions & { root: string; tenant: string; domain: string[]; trustDomain: string }) => {
      const policy = tenantNamePolicy(options.tenant, options.domain, options.trustDomain);
      const root = await loadAuthority(await readPkiDirectory(options.root));
      await write(options.out, await createTenantCa(root, policy, issueOptions(options)), options);
    });

  withCommonOptions(pki.command('issue'))
    .description('Issue a leaf certificate from a tenant CA: a server certificate (--dns), a workload identity (--uri), or sign a CSR.')
    .requiredOption('--ca <dir>', 'the tenant CA directory (from tenant-ca)')
    .option('--dns <name>', 'a DNS name inside the tenant\'s domains; repeat for more', collect, [])
    .option('--uri <uri>', 'a workload identity, spiffe://<tenant>.landlord.local/ns/<ns>/sa/<sa>; repeat for more', collect, [])
    .addOption(new Option('--csr <file>', 'sign this PEM PKCS#10 request for the names it asks; no key is written').conflicts(['dns', 'uri']))
    .addHelpText('after', `
Names outside the tenant's domains or trust domain are refused before signing.

Examples:
  landlord pki issue --ca pki/acme --dns db.acme.example --out pki/db
  landlord pki issue --ca pki/acme --uri spiffe://acme.landlord.local/ns/shop/sa/api --out pki/api
  landlord pki issue --ca pki/acme --csr api.csr --out pki/api`)
    .action(async (options: CommonOptions & { ca: string; dns: string[]; uri: string[]; csr?: string }) => {
      const ca = await loadAuthority(await readPkiDirectory(options.ca));
      const bundle = options.csr === undefined
        ? await issueLeafCertificate(ca, { dns: options.dns, uri: options.uri }, issueOptions(options))
        : await signCertificateRequest(ca, await readPemFile(options.csr), issueOptions(options));
      await write(options.out, bundle, options);
    });

  pki
    .command('revoke')
    .description('Revoke a certificate: add it to the CA\'s CRL (<ca>/ca.crl), re-signed.')
    .requiredOption('--ca <dir>', 'the directory of the CA that issued the certificate')
    .requiredOption('--cert <file>', 'the certificate to revoke (PEM; the first certificate in the file)')
    .addHelpText('after', '\nExample:\n  landlord pki revoke --ca pki/acme --cert pki/api/tls.crt')
    .action(async (options: { ca: string; cert: string }) => {
      const bundle = await readPkiDirectory(options.ca);
      const ca = await loadAuthority(bundle);
      const crl = await revokeCertificate(ca, bundle.crl ?? (await createRevocationList(ca, [])), await readPemFile(options.cert));
      console.log(`revoked ${options.cert}; wrote ${await writeRevocationList(options.ca, crl)}`);
    });

  pki
    .command('inspect')
    .description('Show certificates and CRLs: chain order, names, constraints, validity, renewal time, fingerprints.')
    .argument('<path>', 'a PEM file, or a PKI directory (tls.crt, ca.crt and ca.crl are shown; never the key)')
    .action(async (target: string) => {
      const texts = (await isDirectory(target))
        ? Object.entries(await readPkiFiles(target)).filter(([name]) => name !== pemFileNames.privateKey)
        : [[path.basename(target), await readPemFile(target)] as const];
      for (const [label, text] of texts) console.log(formatInspection(label, await inspectPem(text, label), new Date()));
    });
}

function withCommonOptions(command: Command): Command {
  return command
    .requiredOption('--out <dir>', 'the directory to write tls.crt, tls.key, ca.crt (and ca.crl)')
    .option('--days <days>', 'lifetime in days (default: root 3650, tenant CA 1095, leaf 90)', Number)
    .addOption(new Option('--key-algorithm <algorithm>', 'key type for the new key').choices(keyAlgorithms).default('ecdsa-p256'))
    .option('--force', 'replace an existing tls.key in --out');
}

function issueOptions(options: CommonOptions): IssueOptions {
  return { ...(options.days === undefined ? {} : { lifetimeDays: options.days }), ...(options.keyAlgorithm ? { algorithm: options.keyAlgorithm } : {}) };
}

async function write(dir: string, bundle: PemBundle, options: CommonOptions): Promise<void> {
  for (const file of await writePkiDirectory(dir, bundle, { force: options.force ?? false })) console.log(`wrote ${file}`);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
