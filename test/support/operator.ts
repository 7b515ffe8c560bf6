/** Waiting on an in-process operator (`buildOperator`) in integration tests. */
import type { Operator } from '../../src/operator/index.ts';

/** Idle for five consecutive looks 100 ms apart (events of the last writes have arrived); throws after 60 s. */
export async function settled(operator: Operator): Promise<void> {
  let quiet = 0;
  for (let attempt = 0; attempt < 600 && quiet < 5; attempt++) {
    quiet = operator.isIdle() ? quiet + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (quiet < 5) throw new Error('the operator did not settle within 60 s');
}
