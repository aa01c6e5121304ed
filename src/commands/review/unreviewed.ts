/**
 * `optout log --unreviewed`: applied overrides nobody has reviewed, oldest first (the review
 * backlog is worked from its oldest end). `--json`/`--ndjson` print the override records
 * themselves, the same shape as `optout log`.
 */
import { parseTimeOrAgo } from "../../core/duration.js";
import { unreviewed } from "../../core/review.js";
import { UsageError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { paint } from "../../ui/paint.js";
import { inertLine } from "../../ui/text.js";
import { describeEntry } from "../rules.js";

export interface UnreviewedOptions {
  since?: string;
  until?: string;
  type?: string;
  stage?: string;
  actor?: string;
  limit?: string;
  ndjson?: boolean;
}

export async function printUnreviewed(f: Factory, o: UnreviewedOptions): Promise<void> {
  const now = f.now();
  const since = o.since ? parseTimeOrAgo(o.since, now, "--since").getTime() : Number.NEGATIVE_INFINITY;
  const until = o.until ? parseTimeOrAgo(o.until, now, "--until").getTime() : Number.POSITIVE_INFINITY;
  const limit = o.limit === undefined ? undefined : Number(o.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new UsageError(`--limit "${o.limit}" is not a positive whole number`);
  }
  const policy = await f.policy();
  const list = unreviewed((await f.records()).records)
    .filter(({ record: r, appliedAt }) => {
      const t = Date.parse(appliedAt);
      if (t < since || t > until) return false;
      if (o.type && r.type !== o.type) return false;
      if (o.stage && r.target.stage !== o.stage) return false;
      return !o.actor || r.actor.login === o.actor || r.requester === o.actor;
    })
    .slice(0, limit);
  if (o.ndjson) {
    for (const u of list) f.io.out(JSON.stringify(u.record));
    return;
  }
  if (f.io.json) {
    f.io.printJson({ records: list.map((u) => u.record) });
    return;
  }
  if (list.length === 0) {
    f.io.out("no override awaits review");
    return;
  }
  const p = await paint(f.io);
  for (const { record: r, appliedAt } of list) {
    const due = Date.parse(appliedAt) + policy.review.withinMs;
    const when = appliedAt.replace("T", " ").replace(/\.\d+Z$/, "Z");
    f.io.out(`${when}  ${p.cyan(r.type.padEnd(8))} ${inertLine(describeEntry(r))}  ${p.dim(r.id)}`);
    const by = r.requester ? `${r.requester}, applied by ${r.actor.login}` : r.actor.login;
    const state =
      due <= now.getTime()
        ? p.yellow(`review overdue since ${new Date(due).toISOString()}`)
        : `review due by ${new Date(due).toISOString()}`;
    // A due date only means something when the policy asks for reviews.
    f.io.out(`    by ${inertLine(by)}${policy.review.required ? `; ${state}` : ""}`);
    if (r.reason) f.io.out(`    ${p.dim("reason:")} ${inertLine(r.reason)}`);
  }
  f.io.out(p.dim(`${list.length} awaiting review; record one with: optout review <id> --verdict … --note …`));
}
