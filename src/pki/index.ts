/**
 * The tenant PKI: a platform root CA, one name-constrained intermediate per tenant, leaf
 * certificates for servers and workload identities, renewal decisions, CRLs, and the mapping of
 * all of it to cert-manager-style Secrets and to PEM directories. See docs/pki.md.
 */
export {
  createRootCa, createTenantCa, defaultLifetimeDays, issueLeafCertificate, issuePlatformServingCertificate, loadAuthority, renewLeafCertificate,
  signCertificateRequest, tenantPolicyOf,
  type CertificateAuthority, type IssueOptions, type PemBundle, type ServingNames,
} from './authority.ts';
export { readPemFile, readPkiDirectory, readPkiFiles, writePkiDirectory, writeRevocationList, isDirectory, type WriteOptions } from './files.ts';
export { formatInspection, inspectPem, type CertificateReport, type CrlReport, type Inspection } from './inspect.ts';
export {
  assertIssuancePermitted, defaultPlatformTrustDomain, parseTenantDomain, parseTenantName, refuseIssuance, tenantNamePolicy,
  workloadIdentity, type NameRefusal, type RequestedNames, type TenantNamePolicy,
} from './names.ts';
export { keyAlgorithms, type KeyAlgorithm } from './pem.ts';
export { renewalTime, shouldRenew, type RenewalDecision, type Validity } from './renewal.ts';
export {
  createRevocationList, refreshRevocationList, revocationListDecision, revocationListNumber, revokeCertificate, revokedCertificates, type CrlDecision, type CrlRefresh, type RevokedCertificate,
} from './revocation.ts';
export {
  bundleFiles, bundleFromFiles, bundleFromSecret, defaultPlatformNamespace, pemFileNames, tenantCaSecret, tenantPkiObjects,
  tenantTrustBundle, tlsSecret, trustBundleName, type TenantPkiObjects, type TlsSecret, type TrustBundleConfigMap,
} from './secrets.ts';
