/**
 * How fast the local cluster starts: control plane ready, node Ready, and stop, over a few runs.
 * Usage: node bench/devcluster/run.ts [runs=3]
 */
import { cpus } from 'node:os';
import { startCluster, type DevCluster } from '../../src/devcluster/index.ts';
import { stopOnInterrupt } from '../support/interrupt.ts';

const runs = Math.min(Number(process.argv[2] ?? 3), 10);
const seconds = (ms: number): string => (ms / 1000).toFixed(1);

let current: DevCluster | undefined;
stopOnInterrupt(async () => {
  await current?.stop();
});

console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'})`);
for (const node of [false, true]) {
  const starts: number[] = [];
  const stops: number[] = [];
  for (let i = 0; i < runs; i++) {
    const began = Date.now();
    const cluster = (current = await startCluster({ name: 'bench', node }));
    starts.push(Date.now() - began);
    const stopping = Date.now();
    await cluster.stop();
    current = undefined;
    stops.push(Date.now() - stopping);
  }
  const label = node ? 'control plane + node Ready' : 'control plane ready';
  console.log(`${label}: ${starts.map(seconds).join(' s, ')} s (median ${seconds(median(starts))} s); stop: median ${seconds(median(stops))} s`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
