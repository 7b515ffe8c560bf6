/**
 * Reading PEM text into certificates, keys, requests and CRLs, with one specific error per way it
 * can be wrong. Parsing only: nothing here verifies signatures or trust.
 */
import { createPrivateKey, createPublicKey, type KeyObject, type webcrypto } from 'node:crypto';
import { LandlordError } from '../shared/errors.ts';
import * as x509 from '../shared/x509.ts';

export type KeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384';

export const keyAlgorithms: readonly KeyAlgorithm[] = ['ecdsa-p256', 'ecdsa-p384'];

/** WebCrypto parameters for each supported key algorithm; the hash matches the curve's strength. */
export const signingParameters: Record<KeyAlgorithm, webcrypto.EcKeyGenParams & webcrypto.EcdsaParams> = {
  'ecdsa-p256': { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' },
  'ecdsa-p384': { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' },
};

const curveAlgorithms: Record<string, KeyAlgorithm> = { prime256v1: 'ecdsa-p256', secp384r1: 'ecdsa-p384' };

const pemBlock = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----/g;

/** The base64 blocks labelled `label`, in order; text outside blocks is ignored (as OpenSSL does). */
export function pemBlocks(text: string, label: string, what: string): string[] {
  const blocks = [...text.matchAll(pemBlock)].filter((match) => match[1] === label).map((match) => match[0]);
  if (blocks.length === 0) {
    throw new LandlordError('LL_PKI_PEM_INVALID', `${what} holds no PEM "${label}" block`, {
      hint: `expected text between "-----BEGIN ${label}-----" and "-----END ${label}-----"`,
    });
  }
  return blocks;
}

/** Every certificate in `text` (a leaf then its chain, or a CA bundle). */
export function parseCertificates(text: string, what = 'the certificate file'): x509.X509Certificate[] {
  return pemBlocks(text, 'CERTIFICATE', what).map((block, index) => {
    try {
      return new x509.X509Certificate(block);
    } catch (error) {
      throw new LandlordError('LL_PKI_CERTIFICATE_INVALID', `certificate ${index + 1} in ${what} is not valid DER X.509`, { cause: error });
    }
  });
}

export function parseCertificate(text: string, what?: string): x509.X509Certificate {
  const [first] = parseCertificates(text, what);
  return first as x509.X509Certificate;
}

export function parseCertificateRequest(text: string, what = 'the certificate request'): x509.Pkcs10CertificateRequest {
  const [block] = pemBlocks(text, 'CERTIFICATE REQUEST', what);
  try {
    return new x509.Pkcs10CertificateRequest(block);
  } catch (error) {
    throw new LandlordError('LL_PKI_CSR_INVALID', `${what} is not a valid PKCS#10 request`, { cause: error });
  }
}

export function parseRevocationList(text: string, what = 'the CRL'): x509.X509Crl {
  const [block] = pemBlocks(text, 'X509 CRL', what);
  try {
    return new x509.X509Crl(block);
  } catch (error) {
    throw new LandlordError('LL_PKI_CRL_INVALID', `${what} is not a valid X.509 CRL`, { cause: error });
  }
}

/** A private key and what it is; accepts PKCS#8 and SEC1 ("EC PRIVATE KEY") PEM. */
export interface PrivateKey {
  readonly algorithm: KeyAlgorithm;
  readonly signingKey: webcrypto.CryptoKey;
  /** DER SubjectPublicKeyInfo of the matching public key. */
  readonly publicKeySpki: Uint8Array;
}

export function parsePrivateKey(text: string, what = 'the key file'): PrivateKey {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch (error) {
    throw new LandlordError('LL_PKI_KEY_INVALID', `${what} is not a PEM private key`, { cause: error });
  }
  const algorithm = curveAlgorithms[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (key.asymmetricKeyType !== 'ec' || algorithm === undefined) {
    throw new LandlordError('LL_PKI_KEY_UNSUPPORTED', `${what} holds a ${key.asymmetricKeyType ?? 'unknown'} key; landlord uses ECDSA P-256 or P-384`);
  }
  return {
    algorithm,
    signingKey: key.toCryptoKey(signingParameters[algorithm], false, ['sign']),
    publicKeySpki: new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' })),
  };
}

export async function generateKeyPair(algorithm: KeyAlgorithm): Promise<webcrypto.CryptoKeyPair> {
  return (await crypto.subtle.generateKey(signingParameters[algorithm], true, ['sign', 'verify']));
}

/** PKCS#8 PEM, the form Node's tls and OpenSSL read. */
export async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export function algorithmOf(certificate: x509.X509Certificate): KeyAlgorithm {
  const curve = (certificate.publicKey.algorithm as Partial<webcrypto.EcKeyAlgorithm>).namedCurve;
  const algorithm = curve === 'P-256' ? 'ecdsa-p256' : curve === 'P-384' ? 'ecdsa-p384' : undefined;
  if (algorithm === undefined) {
    throw new LandlordError('LL_PKI_KEY_UNSUPPORTED', `certificate ${certificate.subject} has a key landlord does not sign with`);
  }
  return algorithm;
}

/** True when `issuer`'s name and key match `certificate`'s issuer field and signature. */
export async function isIssuedBy(certificate: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  if (certificate.issuer !== issuer.subject) return false;
  try {
    return await certificate.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}
