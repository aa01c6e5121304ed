/**
 * What optout is waiting on, said while it waits: a spinner on a terminal (ora, on stderr), one
 * line per change of state elsewhere (a CI log gets "waiting for run #12: in progress" once, not
 * once per poll), nothing with --json.
 */
import { formatDuration } from "../core/duration.js";

export type ProgressMode = "spinner" | "lines" | "off";

interface Spinner {
  text: string;
  start(): unknown;
  stop(): unknown;
}

interface Stream {
  write(s: string): unknown;
}

/** Elapsed times and countdowns ("12 s", "1m12s", "(3.5 s)") change on every poll; the state does not. */
const durations = /\(?\b\d+(?:\.\d+)?\s?(?:ms|s|m|h|d)(?:\s?\d+(?:\.\d+)?\s?(?:ms|s|m))*\b\)?/g;

export function stateOf(text: string): string {
  return text.replace(durations, "").replace(/\s+/g, " ").trim();
}

export class Progress {
  private text: string | undefined;
  private state: string | undefined;
  private since = 0;
  private spinner: Spinner | undefined;
  private loading = false;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly mode: ProgressMode,
    private readonly stream: Stream,
    private readonly color = false,
  ) {}

  update(text: string): void {
    if (this.mode === "off") return;
    const state = stateOf(text);
    const changed = state !== this.state;
    this.text = text;
    this.state = state;
    if (this.mode === "lines") {
      if (changed) this.stream.write(`${text}\n`);
      return;
    }
    if (changed) this.since = Date.now();
    this.render();
    if (!this.spinner && !this.loading) void this.startSpinner();
  }

  /** The state it described is over (something else is being said, or the command ends). */
  end(): void {
    this.text = undefined;
    this.state = undefined;
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.spinner?.stop();
    this.spinner = undefined;
  }

  private label(): string {
    const text = this.text ?? "";
    const elapsed = Date.now() - this.since;
    // Our own steps say nothing of time: show how long this one has taken once it is noticeable.
    return elapsed >= 2000 && stateOf(text) === text ? `${text} (${formatDuration(elapsed)})` : text;
  }

  private render(): void {
    if (this.spinner) this.spinner.text = this.label();
  }

  private async startSpinner(): Promise<void> {
    this.loading = true;
    try {
      const { default: ora } = await import("ora");
      if (this.text === undefined) return;
      this.spinner = ora({
        text: this.label(),
        stream: this.stream as NodeJS.WritableStream,
        isEnabled: true,
        ...(this.color ? {} : { color: false as const }),
        // ora would otherwise put stdin in raw mode, and a prompt or Ctrl-C needs it as it is.
        discardStdin: false,
      });
      this.spinner.start();
      this.ticker = setInterval(() => this.render(), 1000);
      this.ticker.unref();
    } finally {
      this.loading = false;
    }
  }
}
