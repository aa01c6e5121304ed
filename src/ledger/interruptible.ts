/**
 * An append that obeys Ctrl-C and then says truthfully whether its record landed. Once a push
 * has left, only the remote decides (a server finishes a push its client abandoned), so an
 * interrupt during a push waits for the remote's answer; between pushes (fetching, backing off
 * after a rejection) it stops at once, and the record is never queued for a later surprise.
 */
import type { RecordDraft } from "../core/record.js";
import type { LedgerEvaluator } from "../core/state.js";
import { InterruptedError } from "../errors.js";
import { type AppendResult, type Ledger, recordPath, type Sign, type SignerInfo } from "./store.js";

/** Told when a push attempt has ended without landing (the ledger's onRetry). */
export interface PushEnds {
  ended?: () => void;
}

export interface InterruptibleOptions {
  signal: AbortSignal | undefined;
  /** Where the append reports a push it is waiting on (stderr). */
  say: (text: string) => void;
  pushEnds: PushEnds;
}

export async function appendInterruptibly(
  store: Ledger,
  draftFor: (ev: LedgerEvaluator) => RecordDraft,
  sign: Sign,
  signer: SignerInfo,
  o: InterruptibleOptions & { keep?: boolean },
): Promise<AppendResult> {
  const options = o.keep === false ? { keep: false } : {};
  const signal = o.signal;
  // An append begun after the interrupt is the flow recording what happened: it runs to its end.
  if (!signal || signal.aborted) return store.append(draftFor, sign, signer, options);
  let draft: RecordDraft | undefined;
  let pushing = false;
  const stop = () => new InterruptedError("interrupted (Ctrl-C)");
  const run = store.append(
    (s) => {
      if (signal.aborted) throw stop();
      draft = draftFor(s);
      return draft;
    },
    async (bytes) => {
      if (signal.aborted) throw stop();
      const sig = await sign(bytes);
      pushing = true;
      return sig;
    },
    signer,
    options,
  );
  // The append goes on alone once stopped (and ends at its next step): it must not crash us.
  run.catch(() => {});
  let onAbort = () => {};
  const stopped = new Promise<"stopped">((resolve) => {
    const check = () => {
      if (signal.aborted && !pushing) resolve("stopped");
    };
    o.pushEnds.ended = () => {
      pushing = false;
      check();
    };
    onAbort = () => {
      if (pushing) {
        o.say(
          `optout: interrupted: waiting for ${store.cfg.remote} to accept or refuse the record it is receiving (Ctrl-C again to leave without knowing)`,
        );
      }
      check();
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const r = await Promise.race([run, stopped]);
    if (r !== "stopped") return r;
  } catch (e) {
    if (!signal.aborted) throw e;
  } finally {
    o.pushEnds.ended = undefined;
    signal.removeEventListener("abort", onAbort);
  }
  // A push the client saw fail may still have gone through on the server: ask the remote.
  const found = draft ? await landed(store, draft.id) : undefined;
  if (found) return found;
  const what = draft ? `the ${draft.type} record` : "the record";
  throw new InterruptedError(
    `interrupted (Ctrl-C) while pushing ${what}: it did not land; nothing was changed`,
  );
}

/** The record as the remote's audit branch holds it, if it does. */
async function landed(store: Ledger, id: string): Promise<AppendResult | undefined> {
  const f = await store.fetch();
  const tip = f.exists ? await store.localTip() : undefined;
  if (!tip) return undefined;
  const path = recordPath(id).path;
  const bytes = (await store.readFiles(tip, [path])).get(path);
  if (!bytes) return undefined;
  return { kind: "landed", record: JSON.parse(bytes.toString("utf8")), path, commit: tip, attempts: 0 };
}
