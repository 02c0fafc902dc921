/**
 * Why the journal's storage failed, as a closed set. Each failure has one exit code, so that the
 * entry point can stop with a code an operator (or systemd, or Docker) can act on:
 * 78 (EX_CONFIG) when the configuration points somewhere unusable, 74 (EX_IOERR) when the disk
 * itself failed.
 */
const EXIT_CODES = {
  // DATA_DIR cannot be written: read-only file system, no permission, or a path through a file.
  not_writable: 78,
  // Another process has DATA_DIR open: PGlite has no lock of its own, and two writers corrupt it.
  in_use: 78,
  // DATA_DIR holds something that is not a journal (so it is never overwritten).
  not_a_journal: 78,
  // The database has migrations this code does not know: an older release against a newer schema.
  schema_too_new: 78,
  // The disk is full (ENOSPC, EDQUOT; PostgreSQL's 53100 disk_full).
  no_space: 74,
  // Any other input/output failure of the disk or of PGlite reading it.
  io_error: 74,
  // DATABASE_URL does not answer; start-up keeps retrying, so this is not fatal there.
  unreachable: 69,
} as const;

export type StorageFailure = keyof typeof EXIT_CODES;

export class StorageError extends Error {
  readonly failure: StorageFailure;

  constructor(failure: StorageFailure, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StorageError';
    this.failure = failure;
  }

  /** The process exit code for this failure at start-up (sysexits.h). */
  get exitCode(): number {
    return EXIT_CODES[this.failure];
  }
}

export function isStorageError(error: unknown): error is StorageError {
  return error instanceof StorageError;
}

/**
 * Emscripten's own errno numbers (PGlite's file system errors carry these, not the host's):
 * from ERRNO_CODES in PGlite's bundled runtime.
 */
const EMSCRIPTEN_ERRNO: Readonly<Record<number, string>> = {
  2: 'EACCES',
  19: 'EDQUOT',
  29: 'EIO',
  51: 'ENOSPC',
  54: 'ENOTDIR',
  63: 'EPERM',
  69: 'EROFS',
};

const NOT_WRITABLE_CODES = new Set(['EROFS', 'EACCES', 'EPERM', 'ENOTDIR', 'EEXIST', 'EISDIR']);
const NO_SPACE_CODES = new Set(['ENOSPC', 'EDQUOT']);

/** The POSIX error name of a Node or Emscripten file system error, if it is one. */
export function errnoName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errno, name } = error as { code?: unknown; errno?: unknown; name?: unknown };
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  if (name === 'ErrnoError' && typeof errno === 'number') return EMSCRIPTEN_ERRNO[errno];
  return undefined;
}

/**
 * Classifies a failure to write or open DATA_DIR, from the error's errno and, for PGlite (whose
 * start-up errors say only "failed to initialize"), from what PostgreSQL printed on stderr.
 */
export function classifyDiskFailure(error: unknown, serverLog = ''): StorageFailure {
  const code = errnoName(error);
  if (code && NO_SPACE_CODES.has(code)) return 'no_space';
  if (code && NOT_WRITABLE_CODES.has(code)) return 'not_writable';
  const sqlState = (error as { code?: unknown } | null)?.code;
  if (sqlState === '53100') return 'no_space';
  const text = `${error instanceof Error ? error.message : String(error)}\n${serverLog}`;
  if (/No space left on device|Disk quota exceeded/i.test(text)) return 'no_space';
  if (/Read-only file system|Permission denied|Operation not permitted/i.test(text)) return 'not_writable';
  return 'io_error';
}

/** What an operator should do about each disk failure, for the message at start-up. */
export function adviceFor(failure: StorageFailure): string {
  switch (failure) {
    case 'not_writable':
      return 'point DATA_DIR at a writable folder (or fix its owner and permissions)';
    case 'no_space':
      return 'free some space on that disk (or point DATA_DIR at another one)';
    case 'in_use':
      return 'run one process per DATA_DIR, or set DATABASE_URL so that several processes share a PostgreSQL server';
    case 'not_a_journal':
      return 'point DATA_DIR at an empty or new folder';
    case 'schema_too_new':
      return 'run the newer release of sightread, or restore a backup made by this one';
    case 'unreachable':
      return 'check that the server in DATABASE_URL is running and reachable';
    case 'io_error':
      return 'check the disk and the folder (the log above says more)';
  }
}
