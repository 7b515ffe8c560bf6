import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jumpsTo, mountsBelow } from './host.ts';

describe('mountsBelow', () => {
  const mountinfo = [
    '22 1 0:21 / / rw - ext4 /dev/vda rw',
    '30 22 0:40 / /tmp/c/node/state/netns/cni-1 rw - nsfs nsfs rw',
    '31 22 0:41 / /tmp/c/node/kubelet/pods/x/volumes/kubernetes.io~secret/token rw - tmpfs tmpfs rw',
    '32 22 0:42 / /tmp/c/node/state/task/with\\040space/rootfs rw - overlay overlay rw',
    '33 22 0:43 / /tmp/cx/other rw - tmpfs tmpfs rw',
  ].join('\n');

  it('lists mounts under the directory, deepest first, and nothing beside it', () => {
    assert.deepEqual(mountsBelow('/tmp/c', mountinfo), [
      '/tmp/c/node/kubelet/pods/x/volumes/kubernetes.io~secret/token',
      '/tmp/c/node/state/task/with space/rootfs',
      '/tmp/c/node/state/netns/cni-1',
    ]);
  });
});

describe('jumpsTo', () => {
  it('finds the rules that jump to kubelet chains, as arguments for -D', () => {
    const listing = ['-P INPUT ACCEPT', '-N KUBE-FIREWALL', '-A INPUT -j KUBE-FIREWALL', '-A OUTPUT -j KUBE-FIREWALL', '-A FORWARD -j DOCKER-USER', '-A KUBE-FIREWALL -j DROP'].join('\n');
    assert.deepEqual(jumpsTo(listing, ['KUBE-FIREWALL']), [['INPUT', '-j', 'KUBE-FIREWALL'], ['OUTPUT', '-j', 'KUBE-FIREWALL']]);
  });
});
