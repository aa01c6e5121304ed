/**
 * What a clone keeps beside the audit branch, under .git/optout/: records that could not be
 * pushed yet (the queue, for `optout sync`), markers of operations this machine is carrying out
 * (so sync leaves a running one alone and settles one whose process died), and the anchor: the
 * last tip `log --verify` verified, so a later rewrite of what it saw is noticed.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RecordDraft } from "../core/record.js";

export class LocalState {
  readonly queueDir: string;
  readonly anchorFile: string;

  constructor(private readonly commonDir: string) {
    this.queueDir = join(commonDir, "optout", "queue");
    this.anchorFile = join(commonDir, "optout", "anchor");
  }

  async enqueue(draft: RecordDraft, signer: string): Promise<void> {
    await mkdir(this.queueDir, { recursive: true });
    const file = join(this.queueDir, `${draft.id}.json`);
    const tmp = `${file}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify({ v: 1, signer, draft }, null, 2));
    await rename(tmp, file);
  }

  async queued(): Promise<{ file: string; signer: string; draft: RecordDraft }[]> {
    let names: string[];
    try {
      names = (await readdir(this.queueDir)).filter((n) => n.endsWith(".json")).sort();
    } catch {
      return [];
    }
    const out = [];
    for (const n of names) {
      const file = join(this.queueDir, n);
      const data = JSON.parse(await readFile(file, "utf8")) as { signer: string; draft: RecordDraft };
      out.push({ file, signer: data.signer, draft: data.draft });
    }
    return out;
  }

  async dequeue(file: string): Promise<void> {
    await rm(file, { force: true });
  }

  private runningFile(id: string): string {
    return join(this.commonDir, "optout", "running", id);
  }

  async markRunning(id: string): Promise<void> {
    await mkdir(join(this.commonDir, "optout", "running"), { recursive: true });
    await writeFile(this.runningFile(id), `${process.pid}\n`);
  }

  async clearRunning(id: string): Promise<void> {
    await rm(this.runningFile(id), { force: true });
  }

  /** "alive": a process on this machine is carrying it out; "dead": it was, and died; else unknown. */
  async runningState(id: string): Promise<"alive" | "dead" | "unknown"> {
    let pid: number;
    try {
      pid = Number((await readFile(this.runningFile(id), "utf8")).trim());
    } catch {
      return "unknown";
    }
    try {
      process.kill(pid, 0);
      return "alive";
    } catch {
      return "dead";
    }
  }

  async readAnchor(): Promise<string | undefined> {
    try {
      return (await readFile(this.anchorFile, "utf8")).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Remembers a verified tip for the next verify. A clone that cannot be written (a read-only
   * checkout, a full disk) only loses that memory: the problem is returned, never thrown, and
   * the verdict of the verification that just ran stands.
   */
  async writeAnchor(commit: string): Promise<string | undefined> {
    const tmp = `${this.anchorFile}.tmp-${process.pid}`;
    try {
      // Not mkdir -p: on a read-only file system it says ENOENT, not EROFS.
      await mkdir(join(this.anchorFile, ".."), { recursive: false }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "EEXIST") throw e;
      });
      await writeFile(tmp, `${commit}\n`);
      await rename(tmp, this.anchorFile);
      return undefined;
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => {});
      const err = e as NodeJS.ErrnoException;
      return `cannot write ${this.anchorFile} (${err.code ?? err.message})`;
    }
  }
}
