import { Progress } from "./progress.js";
import { redact } from "./redact.js";

/**
 * Terminal decisions in one place: whether we may prompt, use colour, show a spinner, and where
 * output goes. stdout is data, stderr is talk; `--json` prints one document on stdout and nothing else.
 */
export interface Streams {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  stdin: { isTTY?: boolean };
}

export interface IOOptions {
  json: boolean;
  yes: boolean;
  /** commander's `--no-color` sets color false. */
  color?: boolean;
  verbose: boolean;
}

export class IO {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly color: boolean;
  readonly canPrompt: boolean;
  readonly spinnerAllowed: boolean;
  private progressLine: Progress | undefined;

  constructor(
    readonly streams: Streams,
    readonly env: Record<string, string | undefined>,
    options: IOOptions,
  ) {
    this.json = options.json;
    this.verbose = options.verbose || env.OPTOUT_DEBUG === "1";
    const ci = isCI(env);
    this.canPrompt = !options.yes && !ci && !options.json && !!streams.stdin.isTTY && !!streams.stdout.isTTY;
    // A terminal of unknown width (columns 0) would make the spinner's redraw arithmetic divide by it.
    this.spinnerAllowed =
      !options.json &&
      !ci &&
      !!streams.stderr.isTTY &&
      env.TERM !== "dumb" &&
      (streams.stderr.columns ?? 0) > 0;
    this.color = decideColor(env, options.color, !!streams.stdout.isTTY, options.json);
  }

  /**
   * Data: the result of the command. Like talk, it never shows a credential: anything shaped like
   * a token, and the value of any secret-bearing environment variable, is printed as ***. A
   * record's text was checked when it was written, but a record can be written without optout.
   */
  out(text: string): void {
    this.endProgress();
    const safe = redact(text, this.env);
    this.streams.stdout.write(safe.endsWith("\n") ? safe : `${safe}\n`);
  }

  /** Talk: plans, steps, warnings. Never part of the data. A line of talk ends the progress shown. */
  err(text: string): void {
    this.endProgress();
    const safe = redact(text, this.env);
    this.streams.stderr.write(safe.endsWith("\n") ? safe : `${safe}\n`);
  }

  /** What optout is waiting on now (see ui/progress.ts); nothing with --json. */
  progress(text: string): void {
    this.progressLine ??= new Progress(
      this.spinnerAllowed ? "spinner" : this.json ? "off" : "lines",
      this.streams.stderr,
      this.color,
    );
    this.progressLine.update(text);
  }

  endProgress(): void {
    this.progressLine?.end();
  }

  /** A child's output (a rollout command's), passed through as it comes: talk, so stderr. */
  passthrough(chunk: string): void {
    this.streams.stderr.write(chunk);
  }

  /** Progress chatter, suppressed with --json (stdout stays clean anyway; stderr too, for scripts). */
  info(text: string): void {
    if (!this.json) this.err(text);
  }

  debug(text: string): void {
    if (this.verbose) this.err(text);
  }

  printJson(value: unknown): void {
    this.out(JSON.stringify(value, null, 2));
  }
}

export function isCI(env: Record<string, string | undefined>): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false";
}

function decideColor(
  env: Record<string, string | undefined>,
  flag: boolean | undefined,
  tty: boolean,
  json: boolean,
): boolean {
  if (json || flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force !== "false";
  return tty && env.TERM !== "dumb";
}
