/**
 * Ctrl-C (SIGINT) and SIGTERM: outside a critical section the process just ends (exit 130);
 * inside one — between an intent record and its result — the signal aborts the running step and
 * the flow records what happened before exiting 130, so nothing half-done goes unrecorded.
 */
export class Interrupt {
  private readonly controller = new AbortController();
  private depth = 0;

  constructor(private readonly exitNow: () => void) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get interrupted(): boolean {
    return this.controller.signal.aborted;
  }

  /** Called by the signal handler. A second signal ends the process even in a critical section. */
  fire(): void {
    if (this.depth === 0 || this.controller.signal.aborted) {
      this.exitNow();
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
}
