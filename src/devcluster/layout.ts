/**
 * Where everything of one local cluster lives, and the fixed network plan of its node (pure).
 *
 * All files are under the cluster's directory except etcd's data, which lives in /dev/shm: etcd
 * 3.4 fsyncs every write and has no switch to stop, and a throwaway cluster gains nothing from it.
 */
import path from 'node:path';

export interface ClusterLayout {
  dir: string;
  pkiDir: string;
  logsDir: string;
  kubeconfigsDir: string;
  usersDir: string;
  stateFile: string;
  etcdDataDir: string;
  controllerManagerCertDir: string;
  schedulerCertDir: string;
  node: NodeLayout;
}

export interface NodeLayout {
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  containerdConfig: string;
  runtimeWrapper: string;
  cniConfDir: string;
  cniDataDir: string;
  kubeletRoot: string;
  kubeletConfig: string;
  kubeProxyConfig: string;
  imagesDir: string;
}

/** The node's network: one bridge whose gateway address is also the node's IP. */
export const nodeNetwork = {
  bridge: 'landlord0',
  nodeIP: '10.244.0.1',
  podSubnet: '10.244.0.0/24',
  podCIDR: '10.244.0.0/16',
  serviceCIDR: '10.96.0.0/16',
  /** The first address of serviceCIDR: the `kubernetes` Service. */
  apiServiceIP: '10.96.0.1',
  nodeName: 'landlord-node',
} as const;

export function clusterLayout(dir: string, name: string): ClusterLayout {
  const node = path.join(dir, 'node');
  return {
    dir,
    pkiDir: path.join(dir, 'pki'),
    logsDir: path.join(dir, 'logs'),
    kubeconfigsDir: path.join(dir, 'kubeconfigs'),
    usersDir: path.join(dir, 'kubeconfigs', 'users'),
    stateFile: path.join(dir, 'state.json'),
    etcdDataDir: path.join('/dev/shm', `landlord-${name}-${path.basename(dir)}-etcd`),
    controllerManagerCertDir: path.join(dir, 'controller-manager'),
    schedulerCertDir: path.join(dir, 'scheduler'),
    node: {
      containerdRoot: path.join(node, 'containerd', 'root'),
      containerdState: path.join(node, 'containerd', 'state'),
      containerdSocket: path.join(node, 'containerd', 'containerd.sock'),
      containerdConfig: path.join(node, 'containerd', 'config.toml'),
      runtimeWrapper: path.join(node, 'runc-wrapper'),
      cniConfDir: path.join(node, 'cni', 'net.d'),
      cniDataDir: path.join(node, 'cni', 'data'),
      kubeletRoot: path.join(node, 'kubelet'),
      kubeletConfig: path.join(node, 'kubelet-config.yaml'),
      kubeProxyConfig: path.join(node, 'kube-proxy-config.yaml'),
      imagesDir: path.join(node, 'images'),
    },
  };
}
