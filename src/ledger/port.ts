/**
 * The ledger as the override flow sees it (core/ports.ts LedgerPort): reads evaluate the fetched
 * audit branch (or the local copy, with a warning), appends are signed, pushed as a critical
 * section (Ctrl-C during a push is answered with what landed) and leave a running marker for
 * `optout sync`.
 */
import type { Interrupt } from "../core/interrupt.js";
import type { LedgerPort } from "../core/ports.js";
import type { LedgerEvaluator } from "../core/state.js";
import { appendInterruptibly, type PushEnds } from "./interruptible.js";
import type { Signer } from "./keys.js";
import { signSshsig } from "./sshsig.js";
import type { Ledger } from "./store.js";

export interface LedgerPortDeps {
  store: Ledger;
  /** The policy's audit.namespace: what records are signed in. */
  namespace: string;
  evaluate: (tip: string | undefined) => Promise<LedgerEvaluator>;
  signer: () => Promise<Signer>;
  /** The signing key's allowed_signers principal. */
  principal: () => Promise<string>;
  now: () => Date;
  interrupt?: Interrupt | undefined;
  pushEnds: PushEnds;
  warn: (text: string) => void;
  /** Talk on stderr (what landed when interrupted). */
  say: (text: string) => void;
  progress: (text: string) => void;
  endProgress: () => void;
  debug: (text: string) => void;
}

export function ledgerPort(d: LedgerPortDeps): LedgerPort {
  const { store } = d;
  const sign = async (bytes: Buffer) => signSshsig(bytes, await d.signer(), d.namespace);
  return {
    current: async () => {
      const { tip } = await store.readTip(d.warn);
      return (await d.evaluate(tip)).view(d.now());
    },
    append: async (draftFor, options) => {
      const [signer, principal] = await Promise.all([d.signer(), d.principal()]);
      d.progress(`pushing the record to ${store.cfg.remote}/${store.cfg.branch}`);
      const append = () =>
        appendInterruptibly(
          store,
          (ev) => draftFor(ev.view(d.now())),
          sign,
          { principal, key: signer.publicKeyBlob },
          {
            signal: d.interrupt?.signal,
            say: d.say,
            pushEnds: d.pushEnds,
            ...(options?.keep === false ? { keep: false } : {}),
          },
        );
      const r = await (d.interrupt ? d.interrupt.critical(append) : append()).finally(d.endProgress);
      // Mark intents this process is carrying out, so `optout sync` on this machine leaves a
      // running operation alone and settles one whose process died.
      // Only a hint for sync (without it, sync waits --settle-after): a full disk must not fail
      // an operation whose record already landed.
      const note = (e: Error) => d.debug(`cannot note the running operation: ${e.message}`);
      if (r.kind === "landed" && r.record.outcome === "intent")
        await store.local.markRunning(r.record.id).catch(note);
      if (r.kind === "landed" && r.record.type === "result" && r.record.links.intent) {
        await store.local.clearRunning(r.record.links.intent).catch(note);
      }
      return r;
    },
  };
}
