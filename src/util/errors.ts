/**
 * An expected failure whose message is safe and useful to show the person who asked:
 * bad input, a missing model, a full queue. Everything else is a bug and is logged instead.
 */
export class UserFacingError extends Error {
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UserFacingError';
    this.code = options.code ?? 'bad_request';
  }
}

/** The inference queue is full: the caller should try again shortly. */
export class BusyError extends UserFacingError {
  constructor(message: string) {
    super(message, { code: 'busy' });
    this.name = 'BusyError';
  }
}

export function isUserFacing(error: unknown): error is UserFacingError {
  return error instanceof UserFacingError;
}

/** A message for logs: never includes a stack for expected errors. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
