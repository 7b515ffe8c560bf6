/**
 * Runs after the e2e suite's cluster (with a node) was stopped: nothing of it may be left on the
 * machine. scripts/run-tests.ts says which cluster through LANDLORD_TEST_STOPPED_CLUSTER.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { mountsBelow, processesOf } from '../../src/devcluster/host.ts';
import { nodeNetwork } from '../../src/devcluster/index.ts';
import { liveProcesses } from '../support/cluster.ts';

const stopped = JSON.parse(process.env.LANDLORD_TEST_STOPPED_CLUSTER ?? 'null') as { dir: string; pids: number[] } | null;

describe('a stopped cluster with a node', { skip: stopped === null ? 'run by scripts/run-tests.ts after the e2e suite' : false }, () => {
  const { dir, pids } = stopped ?? { dir: '', pids: [] };

  it('leaves none of its daemons or containers running', () => {
    assert.ok(pids.length >= 7, `expected the daemons of a node cluster, got ${pids.length}`);
    assert.deepEqual(liveProcesses(pids), []);
    assert.deepEqual(liveProcesses(processesOf(dir)), []);
  });

  it('leaves no mount, directory or etcd data behind', () => {
    assert.deepEqual(mountsBelow(dir), []);
    assert.equal(existsSync(dir), false);
    assert.deepEqual(readdirSync('/dev/shm').filter((name) => name.includes(dir.split('/').pop() ?? '?')), []);
  });

  it('removes the bridge, the iptables chains and the kubepods cgroups', () => {
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
    assert.doesNotMatch(links, new RegExp(`: ${nodeNetwork.bridge}[:@]`));
    for (const table of ['filter', 'nat', 'mangle']) {
      const rules = execFileSync('iptables', ['-t', table, '-S'], { encoding: 'utf8' });
      assert.doesNotMatch(rules, /KUBE-/, `iptables table ${table} still has KUBE- chains`);
    }
    const cgroupRoot = '/sys/fs/cgroup';
    const leftovers = readdirSync(cgroupRoot).filter((controller) => existsSync(`${cgroupRoot}/${controller}/kubepods`));
    assert.deepEqual(leftovers, []);
  });

  it('releases the machine\'s node slot', () => {
    assert.equal(existsSync('/run/landlord/node.lock'), false);
  });
});
