/**
 * Typed errors. Each carries its exit code (the table in docs/commands.md, Exit codes); src/main.ts is the only place that
 * turns one into a process exit. Messages are one line, safe to print (no tokens, no stack).
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  notAllowed: 3,
  pending: 4,
  partial: 5,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorOptions {
  /** A second line telling the user how to fix it. */
  hint?: string;
  cause?: unknown;
  data?: Record<string, unknown>;
}

export class OptoutError extends Error {
  readonly exitCode: ExitCodeValue = ExitCode.failed;
  readonly hint?: string;
  /** Fields merged into the `--json` error document (e.g. a pending request's id). */
  readonly data?: Record<string, unknown>;
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options.hint !== undefined) this.hint = options.hint;
    if (options.data !== undefined) this.data = options.data;
  }
}

/** Bad flag, missing input, malformed value, TTL too long: exit 2. */
export class UsageError extends OptoutError {
  override readonly exitCode = ExitCode.usage;
}

/** The policy file (or another configuration input) is invalid: exit 2. */
export class ConfigError extends OptoutError {
  override readonly exitCode = ExitCode.usage;
}

/** Not authenticated, policy denies, forge permission too low, self-approval: exit 3. */
export class NotAllowedError extends OptoutError {
  override readonly exitCode = ExitCode.notAllowed;
}

/** A request awaits approval: exit 4. Carries the request id. */
export class PendingError extends OptoutError {
  override readonly exitCode = ExitCode.pending;
}

/** Applied, but a ledger record or notification is kept locally for `optout sync`: exit 5. */
export class PartialError extends OptoutError {
  override readonly exitCode = ExitCode.partial;
}

/** The operation failed (forge error after retries, command failed, verification failed): exit 1. */
export class FailedError extends OptoutError {
  override readonly exitCode = ExitCode.failed;
}

/**
 * The forge did not say whether a change happened: a 5xx or a timeout after the request was sent,
 * a dispatch accepted whose run cannot be found, a `--wait` that ran out. The flow records the
 * outcome `unknown` (never `failed`) and `optout sync` settles it by reading the forge; nothing is
 * undone on a guess. Exit 1, like a failure, with a hint to run sync.
 */
export class UnknownOutcomeError extends OptoutError {
  override readonly exitCode = ExitCode.failed;
}

/** `log --verify` found a bad record: exit 1, naming it. */
export class VerificationError extends OptoutError {
  override readonly exitCode = ExitCode.failed;
}

/** Ctrl-C: exit 130. */
export class InterruptedError extends OptoutError {
  override readonly exitCode = ExitCode.interrupted;
}

export const exitCodeTable: ReadonlyArray<readonly [number, string]> = [
  [0, "done (for `guard`: skip the stage)"],
  [
    1,
    "the operation failed (forge error after retries, pipeline failed, verification failed; for `guard`: run the stage)",
  ],
  [2, "usage, configuration or input error: bad flag, invalid policy, malformed value, TTL too long"],
  [3, "not allowed: not authenticated, policy denies, forge permission too low, self-approval"],
  [4, "pending: a request awaits approval"],
  [
    5,
    "partially done: applied, but a ledger record or notification is kept locally (`optout sync` finishes it)",
  ],
  [130, "interrupted (Ctrl-C); nothing half-done is left without a ledger record saying so"],
];

/** Ends a command with an exit code and nothing more to say (guard's "run"; results already printed). */
export class QuietExit extends OptoutError {
  override readonly exitCode: ExitCodeValue;
  constructor(code: ExitCodeValue) {
    super(`exit ${code}`);
    this.exitCode = code;
  }
}

/**
 * A forge refused or failed a request: "GitHub refused: token lacks permission to write commit
 * statuses on acme/shop (403)". 401/403 are "not allowed" (exit 3); everything else exit 1.
 * The message never carries a token, header or full URL with credentials.
 */
export class ForgeError extends OptoutError {
  override readonly exitCode: ExitCodeValue;
  /**
   * False only when the request provably never reached the forge (connection refused, DNS):
   * then nothing can have happened. A 5xx or a timeout after sending may have been acted on.
   */
  readonly sent: boolean;
  constructor(
    readonly forge: "GitHub" | "GitLab",
    readonly status: number,
    message: string,
    options: ErrorOptions & { sent?: boolean } = {},
  ) {
    super(message, options);
    this.exitCode = status === 401 || status === 403 ? ExitCode.notAllowed : ExitCode.failed;
    this.sent = options.sent ?? true;
  }
}
