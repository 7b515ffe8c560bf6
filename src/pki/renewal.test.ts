import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renewalTime, shouldRenew, type RenewalDecision } from './renewal.ts';

const day = 86_400_000;
const issued = new Date('2026-01-01T00:00:00Z');
const ninetyDays = { notBefore: issued, notAfter: new Date(issued.getTime() + 90 * day) };
const at = (days: number, extraMs = 0): Date => new Date(issued.getTime() + days * day + extraMs);

describe('renewal decisions', () => {
  const cases: { name: string; validity?: typeof ninetyDays; now: Date; expect: Pick<RenewalDecision, 'renew'> & { reason?: string } }[] = [
    { name: 'keeps a certificate issued a moment ago', now: at(0, 1), expect: { renew: false } },
    { name: 'keeps a certificate half way through its lifetime', now: at(45), expect: { renew: false } },
    { name: 'keeps a certificate one millisecond before two thirds', now: at(60, -1), expect: { renew: false } },
    { name: 'renews a certificate two thirds into its lifetime', now: at(60), expect: { renew: true, reason: 'due' } },
    { name: 'renews a certificate about to expire', now: at(90, -1), expect: { renew: true, reason: 'due' } },
    { name: 'renews an expired certificate and says so', now: at(90), expect: { renew: true, reason: 'expired' } },
    { name: 'keeps a certificate that is not valid yet because of clock skew', now: at(0, -60_000), expect: { renew: false } },
    {
      name: 'renews a certificate whose validity ends before it starts',
      validity: { notBefore: at(10), notAfter: at(5) },
      now: at(0),
      expect: { renew: true, reason: 'invalid-validity' },
    },
    {
      name: 'renews a certificate whose dates cannot be read',
      validity: { notBefore: new Date(Number.NaN), notAfter: at(5) },
      now: at(0),
      expect: { renew: true, reason: 'invalid-validity' },
    },
    {
      name: 'refreshes a seven-day CRL after four days and sixteen hours',
      validity: { notBefore: issued, notAfter: at(7) },
      now: at(4, 16 * 3_600_000),
      expect: { renew: true, reason: 'due' },
    },
  ];
  for (const { name, validity, now, expect } of cases) {
    it(name, () => {
      const decision = shouldRenew(validity ?? ninetyDays, now);
      assert.equal(decision.renew, expect.renew);
      assert.equal(decision.renew ? decision.reason : undefined, expect.reason);
    });
  }

  it('schedules renewal at two thirds of the lifetime', () => {
    assert.deepEqual(renewalTime(ninetyDays), at(60));
    assert.deepEqual(shouldRenew(ninetyDays, at(1)).renewAt, at(60));
  });
});
