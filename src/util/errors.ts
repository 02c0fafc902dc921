/** What went wrong, as a closed set: each code belongs to one kind, which decides how it is handled. */
const ERROR_KINDS = {
  // The request itself: fix the input and try again.
  bad_request: 'input',
  invalid_options: 'input',
  usage: 'usage',
  empty_text: 'input',
  bad_labels: 'input',
  unknown_topic: 'input',
  no_image: 'input',
  file_missing: 'input',
  // /teach: a class name, a limit, a server-only command, an untrained probe.
  bad_class_name: 'input',
  teach_limit: 'input',
  teach_duplicate: 'input',
  teach_not_ready: 'input',
  server_only: 'input',
  // /settings and /forget from a member without Manage Server.
  not_permitted: 'usage',
  // /quiz: a kind whose models are not installed, or a round that cannot be made from the input.
  quiz_unavailable: 'model',
  // The image or its download: another image may work.
  attachment_failed: 'image',
  attachment_host: 'image',
  image_corrupt: 'image',
  image_timeout: 'image',
  image_too_large: 'image',
  not_an_image: 'image',
  // A model the bot serves: an operator has to act.
  model_missing: 'model',
  // A file failed its checksum or inspection and was moved aside.
  model_corrupt: 'model',
  // Downloading it failed; the store tries again after a backoff.
  model_unavailable: 'model',
  model_invalid: 'model',
  unknown_model: 'model',
  manifest_invalid: 'model',
  manifest_missing: 'model',
  checksum_mismatch: 'model',
  // Capacity: the same request works a little later.
  busy: 'capacity',
  timeout: 'capacity',
  shutting_down: 'capacity',
  // The database /teach keeps its rows in was not opened for this process.
  no_database: 'capacity',
} as const;

export type ErrorCode = keyof typeof ERROR_KINDS;
export type ErrorKind = (typeof ERROR_KINDS)[ErrorCode];

/**
 * An expected failure whose message is safe and useful to show the person who asked:
 * bad input, a missing model, a full queue. Everything else is a bug and is logged instead.
 */
export class UserFacingError extends Error {
  readonly code: ErrorCode;

  constructor(message: string, options: { code?: ErrorCode; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UserFacingError';
    this.code = options.code ?? 'bad_request';
  }

  get kind(): ErrorKind {
    return ERROR_KINDS[this.code];
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

/**
 * Why a model or tokenizer could not answer, for a reply that goes on without it: an expected
 * failure's own message, or a fixed sentence for anything else. An internal error's text can hold
 * file paths, tensor names or provider bodies, so it stays in the log (the caller logs it), as
 * the router does for whole requests.
 */
export function unavailableReason(error: unknown): string {
  return isUserFacing(error) ? error.message : "an internal error (the details are in the bot's log)";
}

/** A message for logs: never includes a stack for expected errors. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
