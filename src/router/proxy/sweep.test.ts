import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expireOverdue, PeriodicSweep, type Deadline } from './sweep.ts';

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

describe('expireOverdue', () => {
  const cases: { name: string; deadlines: number[]; now: number; expired: number[] }[] = [
    { name: 'expires every entry whose deadline passed and stops at the first that has not', deadlines: [10, 20, 30], now: 20, expired: [10, 20] },
    { name: 'expires nothing before the oldest deadline', deadlines: [10, 20], now: 9, expired: [] },
    { name: 'expires all when every deadline passed', deadlines: [10, 20], now: 100, expired: [10, 20] },
  ];
  for (const { name, deadlines, now, expired } of cases) {
    it(name, () => {
      const pending = new Set<Deadline>();
      const closed: number[] = [];
      for (const deadline of deadlines) {
        const entry: Deadline = {
          deadline,
          expire: () => {
            closed.push(deadline);
            pending.delete(entry);
          },
        };
        pending.add(entry);
      }
      expireOverdue(pending, now);
      assert.deepEqual(closed, expired);
      assert.equal(pending.size, deadlines.length - expired.length);
    });
  }

  it('does not expire again in the same sweep an entry that re-enters with a later deadline (a dial moving to its next endpoint)', () => {
    const pending = new Set<Deadline>();
    let expiries = 0;
    const dial = {
      deadline: 10,
      expire(): void {
        expiries += 1;
        pending.delete(dial);
        dial.deadline = 50 + 10;
        pending.add(dial);
      },
    };
    pending.add(dial);
    expireOverdue(pending, 50);
    assert.equal(expiries, 1);
    assert.ok(pending.has(dial));
  });
});
