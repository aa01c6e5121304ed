/**
 * The composition root: lazy getters for everything a command may need, each wiring pieces that
 * live elsewhere (rules in core/, the ledger in ledger/, git in git/). Nothing heavy is imported
 * until a command asks for it, so `--help`, `--version` and `guard` stay fast.
 */
import { join } from "node:path";
import type { FlowDeps } from "./core/flow.js";
import type { Interrupt } from "./core/interrupt.js";
import type { Policy, ProviderName } from "./core/policy.js";
import type {
  LedgerPort,
  NotificationResult,
  NotifierPort,
  NotifyEventName,
  ProviderContext,
  ProviderPort,
} from "./core/ports.js";
import type { LedgerRecord, RecordDraft } from "./core/record.js";
import type { LedgerEvaluator } from "./core/state.js";
import { ConfigError, NotAllowedError, UsageError } from "./errors.js";
import type { RepoInfo } from "./git/repo.js";
import type { PushEnds } from "./ledger/interruptible.js";
import type { Signer } from "./ledger/keys.js";
import type { CountingRecords } from "./ledger/records.js";
import type { Ledger } from "./ledger/store.js";
import type { TrustSource } from "./ledger/trust.js";
import type { IO } from "./ui/io.js";
import { createPrompter, type Prompter } from "./ui/prompt.js";

export interface Globals {
  config?: string;
  provider?: ProviderName;
  repo?: string;
  json: boolean;
  yes: boolean;
  dryRun: boolean;
  color?: boolean;
  verbose: boolean;
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= fn();
    return p;
  };
}

export class Factory {
  constructor(
    readonly globals: Globals,
    readonly io: IO,
    readonly env: Record<string, string | undefined>,
    readonly cwd: string,
    readonly interrupt?: Interrupt,
    /** guard: read the policy without zod when it is plain JSON (see policy/light.ts). */
    private readonly lightPolicy = false,
  ) {}

  private questions: Prompter | undefined;
  private readonly pushEnds: PushEnds = {};

  /** Every question goes through this one object (see ui/prompt.ts); ask only when io.canPrompt. */
  get prompter(): Prompter {
    this.questions ??= createPrompter(this.io, this.interrupt?.signal);
    return this.questions;
  }

  /**
   * The time optout believes it is. OPTOUT_NOW pins it (an ISO 8601 time) so tests and replays
   * decide TTLs without waiting on the real clock; a record still carries this time, and the
   * ledger refuses one that goes back before the newest record.
   */
  now(): Date {
    const pinned = this.env.OPTOUT_NOW;
    if (pinned) {
      const d = new Date(pinned);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(pinned) || Number.isNaN(d.getTime())) {
        throw new UsageError(`OPTOUT_NOW "${pinned}" is not an ISO 8601 time`, {
          hint: "e.g. OPTOUT_NOW=2026-11-26T08:00:00Z, or unset it to use the clock",
        });
      }
      return d;
    }
    return new Date();
  }

  /**
   * The working copy's policy file: a draft. It says which remote to ask and where the policy
   * lives; `policy check` and `--dry-run` read it. What it grants counts for nothing (see policy()).
   */
  readonly localPolicy = once(async (): Promise<Policy> => {
    if (this.lightPolicy) {
      const { loadPolicyLight } = await import("./policy/light.js");
      const light = loadPolicyLight({
        cwd: this.cwd,
        ...(this.globals.config ? { configPath: this.globals.config } : {}),
        ...(this.globals.provider ? { provider: this.globals.provider } : {}),
        ...(this.globals.repo ? { repo: this.globals.repo } : {}),
      });
      if (light) return light;
    }
    const { loadPolicy } = await import("./policy/load.js");
    return loadPolicy({
      cwd: this.cwd,
      ...(this.globals.config ? { configPath: this.globals.config } : {}),
      ...(this.globals.provider ? { provider: this.globals.provider } : {}),
      ...(this.globals.repo ? { repo: this.globals.repo } : {}),
    }).catch(async (e: unknown) => {
      // Outside a clone, "no policy file" would send the user looking for the wrong thing.
      if (!this.globals.config) await this.repoInfo();
      throw e;
    });
  });

  /** The policy in force and allowed_signers, both from the remote's default branch (once per command). */
  readonly inForce = once(async () => {
    const [local, repo, { loadFromDefaultBranch }] = await Promise.all([
      this.localPolicy(),
      this.repoInfo(),
      import("./ledger/trust.js"),
    ]);
    return loadFromDefaultBranch(repo, local, {
      ...(this.globals.provider ? { provider: this.globals.provider } : {}),
      ...(this.globals.repo ? { repo: this.globals.repo } : {}),
      warn: (text) => this.io.err(`optout: warning: ${text}`),
    });
  });

  /**
   * The policy every decision is made under: the default branch's. `--dry-run` shows what the
   * working copy's draft would do, and says so.
   */
  readonly policy = once(async (): Promise<Policy> => {
    if (this.globals.dryRun) {
      const local = await this.localPolicy();
      this.io.err(
        `optout: dry run: using the working copy's ${local.file.split(/[\\/]/).pop()} (what counts is the default branch's copy)`,
      );
      return local;
    }
    return (await this.inForce()).inForce.policy;
  });

  readonly repoInfo = once(async (): Promise<RepoInfo> => {
    const { openRepo } = await import("./git/repo.js");
    return openRepo(this.cwd);
  });

  /** `owner/name` (or a GitLab path): policy/--repo, else derived from the audit remote's URL. */
  readonly repoName = once(async (): Promise<string> => {
    const policy = await this.policy();
    if (policy.repo) return policy.repo;
    const { noSuchRemote, remoteUrl, repoFromUrl } = await import("./git/repo.js");
    const url = await remoteUrl((await this.repoInfo()).root, policy.audit.remote);
    if (url === undefined) throw noSuchRemote(policy.audit.remote);
    const name = repoFromUrl(url);
    if (!name) {
      throw new ConfigError(`cannot tell the repository: set "repo" in ${policy.file} or pass --repo`, {
        hint: `the remote "${policy.audit.remote}" has no URL optout understands`,
      });
    }
    return name;
  });

  readonly ledgerStore = once(async (): Promise<Ledger> => {
    const [{ Ledger }, policy, repo] = await Promise.all([
      import("./ledger/store.js"),
      this.policy(),
      this.repoInfo(),
    ]);
    const timeout = Number(this.env.OPTOUT_APPEND_TIMEOUT_MS);
    const store: Ledger = new Ledger({
      evaluate: (tip) => this.evaluateAt(store, tip),
      repo,
      remote: policy.audit.remote,
      branch: policy.audit.branch,
      appendTimeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : 60_000,
      now: () => this.now(),
      warn: (text) => this.io.err(text),
      onRetry: (n, why) => {
        this.pushEnds.ended?.();
        this.io.debug(`append attempt ${n}: ${why}; retrying`);
        this.io.progress(`pushing the record (attempt ${n + 1}: ${retryReason(why)})`);
      },
      ...(policy.audit.signCommits
        ? {
            signCommit: async (body: Buffer) => {
              const { signSshsig } = await import("./ledger/sshsig.js");
              // "git" is the namespace git itself signs and verifies commits in.
              return signSshsig(body, await this.signer(), "git");
            },
          }
        : {}),
    });
    return store;
  });

  /** The evaluator over the audit branch up to `tip`, under the policy in force and today's allowed_signers. */
  private async evaluateAt(store: Ledger, tip: string | undefined): Promise<LedgerEvaluator> {
    const [{ evaluateLedger }, policy, repo, trust] = await Promise.all([
      import("./ledger/evaluate.js"),
      this.policy(),
      this.repoName(),
      this.trust(),
    ]);
    return evaluateLedger(store.cfg, tip, policy, repo, trust.signers);
  }

  /**
   * The audit branch as readers see it: fetched (its whole history), or the local copy with a
   * warning when the remote cannot be reached, then evaluated. One per command.
   */
  readonly evaluation = once(
    async (): Promise<{ tip: string | undefined; ev: LedgerEvaluator; offline: boolean }> => {
      const store = await this.ledgerStore();
      const { tip, offline } = await store.readTip((text) => this.warn(text));
      return { tip, ev: await this.evaluateAt(store, tip), offline };
    },
  );

  /** The ledger's records that count, oldest first, and the alerts about the rest (see evaluation). */
  readonly records = once(async (): Promise<CountingRecords> => {
    const [{ countingRecords }, { tip, ev }] = await Promise.all([
      import("./ledger/records.js"),
      this.evaluation(),
    ]);
    return countingRecords(tip, ev);
  });

  /** allowed_signers from the remote's default branch (fetched once per command). */
  readonly trust = once(async (): Promise<TrustSource> => (await this.inForce()).trust);

  /** The working copy's policy file against the default branch's copy (`policy check --pinned`, doctor). */
  readonly pinCheck = once(async () => {
    const [local, repo, trust] = await Promise.all([this.localPolicy(), this.repoInfo(), this.trust()]);
    const { comparePolicyWithDefaultBranch } = await import("./policy/pin.js");
    return comparePolicyWithDefaultBranch(repo.root, local.file, trust.ref);
  });

  /** The signing key, found where ledger/keys.ts signingKeyPath says. */
  readonly signer = once(async (): Promise<Signer> => {
    const policy = await this.policy();
    const { loadSigner, signingKeyPath } = await import("./ledger/keys.js");
    const { path } = await signingKeyPath({
      env: this.env,
      base: this.cwd,
      root: async () => (await this.repoInfo()).root,
      configured: policy.audit.signingKey,
    });
    return loadSigner(path, this.env as NodeJS.ProcessEnv);
  });

  /** The principal allowed_signers gives the signing key now; refused when it has none. */
  readonly signerPrincipal = once(async (): Promise<string> => {
    const [signer, trust, policy] = await Promise.all([this.signer(), this.trust(), this.policy()]);
    const { principalsForKey } = await import("./ledger/allowed-signers.js");
    const names = principalsForKey(trust.signers, signer.publicKeyBlob, policy.audit.namespace, this.now());
    if (names.length === 0) {
      throw new NotAllowedError(
        `your signing key ${signer.fingerprint} is not in ${trust.path} on ${policy.audit.remote}/${trust.branch}`,
        {
          hint: `ask a maintainer to add "<you> ${signer.publicKeyLine}" to ${trust.path} on the default branch`,
        },
      );
    }
    return names[0]!;
  });

  readonly provider = once(async (): Promise<ProviderPort> => {
    const policy = await this.policy();
    if (policy.provider === "git") {
      const { GitProvider } = await import("./providers/git/index.js");
      const env = Object.fromEntries(Object.entries(this.env).filter(([k]) => !/^OPTOUT_.*TOKEN$/.test(k)));
      return new GitProvider({
        policy,
        cwd: (await this.repoInfo()).root,
        env,
        signerPrincipal: () => this.signerPrincipal(),
        output: (chunk) => this.io.passthrough(chunk),
        progress: (text) => this.io.progress(text),
      });
    }
    const repo = await this.repoName();
    const ctx: ProviderContext = {
      policy,
      repo,
      env: this.env,
      log: (line) => this.io.debug(line),
      progress: (text) => this.io.progress(text),
      warn: (text) => this.io.err(`optout: warning: ${text}`),
      now: () => this.now(),
    };
    const forge = await this.forge(ctx);
    const { withSignerCheck } = await import("./core/authorize.js");
    return withSignerCheck(forge, async () => ({
      principal: await this.signerPrincipal(),
      signers: policy.signers,
    }));
  });

  /**
   * The forge's provider for `ctx`. Test harnesses point it at a fake forge (with their own
   * timings and captured output); the signer check around it stays.
   */
  protected async forge(ctx: ProviderContext): Promise<ProviderPort> {
    return ctx.policy.provider === "gitlab"
      ? (await import("./providers/gitlab/index.js")).createGitLabProvider(ctx)
      : (await import("./providers/github/index.js")).createGitHubProvider(ctx);
  }

  /** Announcements to the policy's channels (none configured: nothing loads). */
  readonly notifier = once(async (): Promise<NotifierPort> => {
    const [policy, provider] = await Promise.all([this.policy(), this.provider()]);
    const { createNotifier } = await import("./notify/index.js");
    return createNotifier({
      channels: policy.notify,
      env: this.env,
      ...(provider.commentOnIssue ? { issueCommenter: provider.commentOnIssue.bind(provider) } : {}),
      log: (line) => this.io.debug(line),
    });
  });

  /** Announcements that failed, kept for `optout sync` (see notify/outbox.ts). */
  readonly outbox = once(async () => {
    const { Outbox } = await import("./notify/outbox.js");
    return new Outbox(join((await this.repoInfo()).commonDir, "optout", "notify"));
  });

  /** Channels this command could not notify (kept in the outbox): the command then exits 5. */
  readonly undelivered: string[] = [];

  /** The ledger as the override flow sees it (ledger/port.ts). */
  readonly ledger = once(async (): Promise<LedgerPort> => {
    const [store, policy, { ledgerPort }] = await Promise.all([
      this.ledgerStore(),
      this.policy(),
      import("./ledger/port.js"),
    ]);
    return ledgerPort({
      store,
      namespace: policy.audit.namespace,
      evaluate: (tip) => this.evaluateAt(store, tip),
      signer: () => this.signer(),
      principal: () => this.signerPrincipal(),
      now: () => this.now(),
      interrupt: this.interrupt,
      pushEnds: this.pushEnds,
      warn: (text) => this.warn(text),
      say: (text) => this.io.err(text),
      progress: (text) => this.io.progress(text),
      endProgress: () => this.io.endProgress(),
      debug: (text) => this.io.debug(text),
    });
  });

  /**
   * What the override flow (core/flow.ts) works with: the provider, the ledger, announcements
   * (a failed one is kept in the outbox for `optout sync`, and the command then exits 5), the
   * one confirmation question and the plan and steps printed on stderr.
   */
  readonly flowDeps = once(async (): Promise<FlowDeps> => {
    const [provider, ledger, repo, policy, { paint }, { ulid }, { notifyEvent }] = await Promise.all([
      this.provider(),
      this.ledger(),
      this.repoName(),
      this.policy(),
      import("./ui/paint.js"),
      import("./ledger/ulid.js"),
      import("./core/announce.js"),
    ]);
    const p = await paint(this.io);
    const announce = async (
      event: NotifyEventName,
      record: LedgerRecord | RecordDraft,
    ): Promise<NotificationResult[]> => {
      if (policy.notify.length === 0) return [];
      const notifier = await this.notifier();
      const e = notifyEvent(event, record, repo);
      if (this.globals.dryRun) {
        for (const pv of notifier.preview(e))
          this.io.err(`would notify ${pv.channel}: ${JSON.stringify(pv.payload)}`);
        return notifier.preview(e).map((pv) => ({ channel: pv.channel, status: "dry-run", attempts: 0 }));
      }
      const results = await notifier.announce(e);
      const failed = results.filter((r) => r.status === "failed");
      if (failed.length) {
        await (await this.outbox()).keep(e, failed, this.now());
        this.undelivered.push(...failed.map((r) => r.channel));
      }
      for (const r of failed) {
        this.io.err(
          `${p.yellow("warning:")} notification to ${r.channel} failed: ${r.error ?? "unknown error"}; kept locally, \`optout sync\` sends it`,
        );
      }
      return results;
    };
    return {
      announce,
      ...(this.interrupt ? { interrupt: this.interrupt } : {}),
      provider,
      ledger,
      repo,
      now: () => this.now(),
      newId: () => ulid(this.now().getTime()),
      dryRun: this.globals.dryRun,
      // A change that replaces someone else's override is never taken as a yes by default: without
      // a terminal it needs --yes, and on one the question says so.
      confirm: async (_plan, o = {}) => {
        if (o.mustAsk && !this.globals.yes && !this.io.canPrompt) {
          throw new UsageError(`${o.mustAsk}: replacing someone else's waiver needs a yes`, {
            hint: "check with them, then run the same command with --yes (or on a terminal, to be asked)",
          });
        }
        if (!this.io.canPrompt) return true;
        return this.prompter.confirm(o.mustAsk ? `This ${o.mustAsk}. Go ahead?` : "Go ahead?", false);
      },
      report: {
        plan: (lines) => {
          for (const l of lines) this.io.info(`${p.dim("plan:")} ${l}`);
        },
        step: (text) => this.io.info(`${p.green("✓")} ${text}`),
        progress: (text) => this.io.progress(text),
        warn: (text) => this.io.err(`${p.yellow("warning:")} ${text}`),
      },
    };
  });

  private warn(text: string): void {
    this.io.err(`optout: warning: ${text}`);
  }
}

/** A rejected push, in the words an on-call engineer needs: someone else appended first. */
function retryReason(why: string): string {
  return why.startsWith("push rejected") ? "another writer was first" : why;
}
