/** Renders kubeconfig files (pure). */
import { stringify } from 'yaml';
import type { PemPair } from './certificates.ts';

export interface KubeconfigInput {
  clusterName: string;
  server: string;
  caCert: string;
  user: string;
  credentials: PemPair;
}

export function renderKubeconfig(input: KubeconfigInput): string {
  const b64 = (pem: string): string => Buffer.from(pem).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: input.clusterName, cluster: { server: input.server, 'certificate-authority-data': b64(input.caCert) } }],
    users: [
      {
        name: input.user,
        user: { 'client-certificate-data': b64(input.credentials.cert), 'client-key-data': b64(input.credentials.key) },
      },
    ],
    contexts: [{ name: input.clusterName, context: { cluster: input.clusterName, user: input.user } }],
    'current-context': input.clusterName,
  });
}
