/**
 * Ctrl-C (SIGINT) and SIGTERM: outside a critical section the process just ends (exit 130);
 * inside one — between an intent record and its result — the signal aborts the running step and
 * the flow records what happened before exiting 130, so nothing half-done goes unrecorded.
 * While the flow is recording that (`recording`), a signal is noted, not obeyed: it takes effect
 * once the record has landed. A second signal always ends the process at once.
 */
export class Interrupt {
  private readonly controller = new AbortController();
  private depth = 0;
  private holding = 0;
  private noted = false;

  constructor(private readonly exitNow: () => void) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get interrupted(): boolean {
    return this.controller.signal.aborted;
  }

  /** Called by the signal handler. A second signal ends the process even in a critical section. */
  fire(): void {
    if (this.noted || this.depth === 0 || this.controller.signal.aborted) {
      this.exitNow();
      return;
    }
    if (this.holding > 0) {
      this.noted = true;
      return;
    }
    this.controller.abort(new Error("interrupted"));
  }

  async critical<T>(fn: () => Promise<T>): Promise<T> {
    this.depth++;
    try {
      return await fn();
    } finally {
      this.depth--;
    }
  }

  /**
   * Runs `fn`, the flow writing down what happened, to its end: a Ctrl-C meanwhile (the command it
   * ran may have died of the same Ctrl-C first) would otherwise stop the very record that says so.
   * The interrupt then takes effect.
   */
  async recording<T>(fn: () => Promise<T>): Promise<T> {
    this.depth++;
    this.holding++;
    try {
      return await fn();
    } finally {
      this.holding--;
      this.depth--;
      if (this.holding === 0 && this.noted) {
        this.noted = false;
        this.controller.abort(new Error("interrupted"));
      }
    }
  }
}
