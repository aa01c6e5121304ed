import { PartialError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { signSshsig } from "../../ledger/sshsig.js";
import { describeEntry } from "../rules.js";

/** Pushes what was kept locally; reports intents whose outcome is unknown. */
export async function runSync(f: Factory): Promise<void> {
  const [store, policy] = await Promise.all([f.ledgerStore(), f.policy()]);
  const queued = await store.queued();
  const pushed: string[] = [];
  const left: { id: string; reason: string }[] = [];
  if (queued.length && !f.globals.dryRun) {
    const signer = await f.signer();
    const principal = await f.signerPrincipal();
    for (const q of queued) {
      const r = await store.append(
        () => q.draft,
        (b) => signSshsig(b, signer, policy.audit.namespace),
        principal,
      );
      if (r.kind === "landed") {
        await store.dequeue(q.file);
        pushed.push(q.draft.id);
      } else {
        left.push({ id: q.draft.id, reason: r.reason });
        break;
      }
    }
  }
  await store.fetch();
  const state = await store.state(await store.localTip());
  const unfinished = state.index.inflight;
  if (f.io.json) {
    f.io.printJson({
      pushed,
      ...(f.globals.dryRun ? { wouldPush: queued.map((q) => q.draft.id) } : {}),
      left,
      unfinished,
    });
  } else {
    if (f.globals.dryRun) for (const q of queued) f.io.out(`would push ${q.draft.type} ${q.draft.id}`);
    for (const id of pushed) f.io.out(`pushed ${id}`);
    for (const l of left) f.io.out(`still kept locally: ${l.id} (${l.reason})`);
    for (const u of unfinished)
      f.io.out(`unfinished: ${describeEntry(u)} (${u.id}): intent recorded, no result yet`);
    if (!queued.length && !unfinished.length) f.io.out("nothing to sync");
  }
  if (left.length)
    throw new PartialError(
      `${left.length + (queued.length - pushed.length - left.length)} record(s) still kept locally`,
    );
}
