/**
 * Command lines of the control-plane daemons (pure). Every listener binds loopback (or the
 * node's IP when the cluster has a node) on a port chosen at start, so clusters never collide.
 */
import path from 'node:path';
import type { ClusterLayout } from './layout.ts';
import { nodeNetwork } from './layout.ts';

export interface ControlPlanePorts {
  etcdClient: number;
  etcdPeer: number;
  apiServer: number;
  controllerManager: number;
  scheduler: number;
}

export function etcdArgs(layout: ClusterLayout, ports: ControlPlanePorts): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    '--name=landlord',
    `--data-dir=${layout.etcdDataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=landlord=${peer}`,
    '--listen-metrics-urls=',
    '--quota-backend-bytes=4294967296',
    '--log-level=warn',
    '--logger=zap',
  ];
}

/** `advertiseAddress` is the node's IP when the cluster has a node, or undefined for loopback only. */
export function apiServerArgs(layout: ClusterLayout, ports: ControlPlanePorts, advertiseAddress: string | undefined): string[] {
  const pki = (file: string): string => path.join(layout.pkiDir, file);
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    // Loopback-only clusters bind 127.0.0.1; a node's pods need the API on the node's address too.
    `--bind-address=${advertiseAddress === undefined ? '127.0.0.1' : '0.0.0.0'}`,
    `--secure-port=${ports.apiServer}`,
    '--insecure-port=0',
    ...(advertiseAddress === undefined
      ? ['--advertise-address=127.0.0.1', '--endpoint-reconciler-type=none']
      : [`--advertise-address=${advertiseAddress}`]),
    `--tls-cert-file=${pki('apiserver.crt')}`,
    `--tls-private-key-file=${pki('apiserver.key')}`,
    `--client-ca-file=${pki('ca.crt')}`,
    `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`,
    `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
    `--kubelet-certificate-authority=${pki('ca.crt')}`,
    // Reach kubelets by the node's IP: the local node's name resolves nowhere, and must not be looked up.
    '--kubelet-preferred-address-types=InternalIP',
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    '--allow-privileged=true',
    `--service-cluster-ip-range=${nodeNetwork.serviceCIDR}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki('sa.pub')}`,
    `--service-account-signing-key-file=${pki('sa.key')}`,
    '--api-audiences=https://kubernetes.default.svc.cluster.local',
    '--profiling=false',
    '--v=1',
  ];
}

export function controllerManagerArgs(layout: ClusterLayout, ports: ControlPlanePorts): string[] {
  const pki = (file: string): string => path.join(layout.pkiDir, file);
  return [
    `--kubeconfig=${path.join(layout.kubeconfigsDir, 'controller-manager.kubeconfig')}`,
    `--authentication-kubeconfig=${path.join(layout.kubeconfigsDir, 'controller-manager.kubeconfig')}`,
    `--authorization-kubeconfig=${path.join(layout.kubeconfigsDir, 'controller-manager.kubeconfig')}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${ports.controllerManager}`,
    '--port=0',
    `--cert-dir=${layout.controllerManagerCertDir}`,
    `--service-account-private-key-file=${pki('sa.key')}`,
    `--root-ca-file=${pki('ca.crt')}`,
    `--cluster-signing-cert-file=${pki('ca.crt')}`,
    `--cluster-signing-key-file=${pki('ca.key')}`,
    '--use-service-account-credentials=true',
    '--leader-elect=false',
    '--profiling=false',
    '--v=1',
  ];
}

export function schedulerArgs(layout: ClusterLayout, ports: ControlPlanePorts): string[] {
  const kubeconfig = path.join(layout.kubeconfigsDir, 'scheduler.kubeconfig');
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${ports.scheduler}`,
    '--port=0',
    `--cert-dir=${layout.schedulerCertDir}`,
    '--leader-elect=false',
    '--profiling=false',
    '--v=1',
  ];
}
