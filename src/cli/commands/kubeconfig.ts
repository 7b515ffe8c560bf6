/** Where CLI commands that talk to a cluster get their credentials. */
import { KubeConfig } from '@kubernetes/client-node';

/**
 * `--kubeconfig FILE` when given; otherwise in-cluster credentials inside a pod (when
 * `inCluster` is allowed), else KUBECONFIG or ~/.kube/config.
 */
export function loadKubeConfig(file: string | undefined, options: { inCluster: boolean }): KubeConfig {
  const config = new KubeConfig();
  if (file) config.loadFromFile(file);
  else if (options.inCluster && process.env.KUBERNETES_SERVICE_HOST) config.loadFromCluster();
  else config.loadFromDefault();
  return config;
}
