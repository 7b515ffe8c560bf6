/**
 * Errors with stable codes.
 *
 * Every failure a user or operator can meet is a `LandlordError` with a code of the form
 * `LL_<COMPONENT>_<WHAT>` (e.g. `LL_DEVCLUSTER_BINARY_MISSING`). Codes are part of the public
 * contract: logs and metrics group by them, tests assert on them, and they never change meaning.
 * The message says what was wrong; `hint`, when present, says how to fix it.
 */
export class LandlordError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LandlordError';
    this.code = code;
    this.hint = options.hint;
  }
}

export function isLandlordError(error: unknown, code?: string): error is LandlordError {
  return error instanceof LandlordError && (code === undefined || error.code === code);
}

/** One line for a terminal: `error LL_X: message` plus the hint on its own line. */
export function describeError(error: unknown): string {
  if (error instanceof LandlordError) {
    return `error ${error.code}: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ''}`;
  }
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}
