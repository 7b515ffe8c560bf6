import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type net from 'node:net';
import { expireHandshakes, type PendingHandshake } from './connection.ts';
import { PeriodicSweep } from './sweep.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('PeriodicSweep', () => {
  it('runs while the sweep reports work, stops when it reports none, and starts again on watch', async () => {
    let runs = 0;
    let work = 3;
    const sweep = new PeriodicSweep(5, () => {
      runs += 1;
      work -= 1;
      return work > 0;
    });
    sweep.watch();
    sweep.watch();
    await sleep(80);
    assert.equal(runs, 3, 'one timer however often watch() is called, stopped once there is no work');
    work = 1;
    sweep.watch();
    await sleep(40);
    assert.equal(runs, 4);
  });
});

describe('expireHandshakes', () => {
  const cases: { name: string; deadlines: number[]; now: number; expired: number[] }[] = [
    { name: 'closes every connection whose deadline passed and stops at the first that has not', deadlines: [10, 20, 30], now: 20, expired: [10, 20] },
    { name: 'closes nothing before the oldest deadline', deadlines: [10, 20], now: 9, expired: [] },
    { name: 'closes all when every deadline passed', deadlines: [10, 20], now: 100, expired: [10, 20] },
  ];
  for (const { name, deadlines, now, expired } of cases) {
    it(name, () => {
      const inHandshake = new Map<net.Socket, PendingHandshake>();
      const closed: number[] = [];
      deadlines.forEach((deadline, i) => {
        const key = { i } as unknown as net.Socket;
        inHandshake.set(key, {
          deadline,
          reject: (reason) => {
            assert.equal(reason, 'handshake_timeout');
            closed.push(deadline);
            inHandshake.delete(key);
          },
        });
      });
      expireHandshakes(inHandshake, now);
      assert.deepEqual(closed, expired);
      assert.equal(inHandshake.size, deadlines.length - expired.length);
    });
  }
});
