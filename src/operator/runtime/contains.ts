/**
 * Whether an observed object already holds everything a desired object says: the test that lets a
 * reconciler skip a write. Objects match when every desired field is present with an equal value
 * (the server adds defaults and metadata of its own); arrays must have the same length and match
 * element by element (order matters, as it does for the objects landlord writes).
 *
 * Desired objects are complete (see tenant/desired.ts), so a field landlord stops setting shows up
 * as a changed value, never as a silently kept extra.
 */
export function contains(observed: unknown, desired: unknown): boolean {
  if (Array.isArray(desired)) {
    return Array.isArray(observed) && observed.length === desired.length && desired.every((item, index) => contains(observed[index], item));
  }
  if (typeof desired === 'object' && desired !== null) {
    if (typeof observed !== 'object' || observed === null || Array.isArray(observed)) return false;
    const record = observed as Record<string, unknown>;
    return Object.entries(desired).every(([key, value]) => value === undefined || contains(record[key], value));
  }
  return observed === desired;
}
