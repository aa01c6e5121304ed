/**
 * Announcements that could not be delivered, kept in the clone (next to the ledger's queue, under
 * .git/optout/notify/) until `optout sync` delivers them: a channel that is down must not silently
 * swallow the news of an override. One file per event, naming the channels still owed it.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { NotifyEvent } from "../core/ports.js";

export interface KeptNotification {
  file: string;
  event: NotifyEvent;
  /** Channel names (`slack`, `webhook#2`) that have not had it yet, with their last error. */
  channels: { channel: string; error: string }[];
  /** When it was first kept. */
  since: string;
}

export class Outbox {
  constructor(readonly dir: string) {}

  /** Keeps `event` for the channels that failed (merged with any kept earlier for it). */
  async keep(event: NotifyEvent, failed: { channel: string; error?: string }[], now: Date): Promise<void> {
    if (failed.length === 0) return;
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, `${event.record.id}-${event.event}.json`);
    const earlier = await read(file);
    const channels = new Map((earlier?.channels ?? []).map((c) => [c.channel, c.error]));
    for (const f of failed) channels.set(f.channel, f.error ?? "not delivered");
    await write(file, {
      event,
      channels: [...channels].map(([channel, error]) => ({ channel, error })),
      since: earlier?.since ?? now.toISOString(),
    });
  }

  async list(): Promise<KeptNotification[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith(".json")).sort();
    } catch {
      return [];
    }
    const out: KeptNotification[] = [];
    for (const n of names) {
      const kept = await read(join(this.dir, n));
      if (kept) out.push(kept);
    }
    return out;
  }

  /** What is still owed after a retry: the file goes once every channel has had the event. */
  async settle(kept: KeptNotification, stillFailing: { channel: string; error: string }[]): Promise<void> {
    if (stillFailing.length === 0) await rm(kept.file, { force: true });
    else await write(kept.file, { event: kept.event, channels: stillFailing, since: kept.since });
  }
}

async function read(file: string): Promise<KeptNotification | undefined> {
  try {
    const data = JSON.parse(await readFile(file, "utf8")) as Omit<KeptNotification, "file">;
    return { file, ...data };
  } catch {
    return undefined;
  }
}

async function write(file: string, data: Omit<KeptNotification, "file">): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify({ v: 1, ...data }, null, 2)}\n`);
  await rename(tmp, file);
}
