/**
 * The composition root: lazy getters for everything a command may need. Nothing heavy is
 * imported until a command asks for it, so `--help`, `--version` and `guard` stay fast.
 */
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { Interrupt } from "./core/interrupt.js";
import type { Policy, ProviderName } from "./core/policy.js";
import type { LedgerPort, NotifierPort, ProviderContext, ProviderPort } from "./core/ports.js";
import type { LedgerEvaluator } from "./core/state.js";
import { ConfigError, NotAllowedError, UsageError } from "./errors.js";
import type { RepoInfo } from "./git/repo.js";
import type { PushEnds } from "./ledger/interruptible.js";
import type { Signer } from "./ledger/keys.js";
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
    const { noSuchRemote, remoteUrl } = await import("./git/repo.js");
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
      const fetched = await store.fetch({ history: true });
      if (!fetched.reachable) {
        this.io.err(`optout: warning: cannot reach the remote (${fetched.error}); reading the local copy`);
      }
      const tip = fetched.exists || !fetched.reachable ? await store.localTip() : undefined;
      return { tip, ev: await this.evaluateAt(store, tip), offline: !fetched.reachable };
    },
  );

  /** allowed_signers from the remote's default branch (fetched once per command). */
  readonly trust = once(async (): Promise<TrustSource> => (await this.inForce()).trust);

  /** The working copy's policy file against the default branch's copy (`policy check --pinned`, doctor). */
  readonly pinCheck = once(async () => {
    const [local, repo, trust] = await Promise.all([this.localPolicy(), this.repoInfo(), this.trust()]);
    const { comparePolicyWithDefaultBranch } = await import("./policy/pin.js");
    return comparePolicyWithDefaultBranch(repo.root, local.file, trust.ref);
  });

  /** The signing key: policy audit.signingKey > OPTOUT_SIGNING_KEY > git user.signingkey (ssh) > ~/.ssh/id_ed25519. */
  readonly signer = once(async (): Promise<Signer> => {
    const policy = await this.policy();
    const { loadSigner } = await import("./ledger/keys.js");
    const path = await this.signingKeyPath(policy);
    return loadSigner(path, this.env as NodeJS.ProcessEnv);
  });

  private async signingKeyPath(policy: Policy): Promise<string> {
    const home = this.env.HOME || homedir();
    const expand = (p: string) =>
      p.startsWith("~/") ? join(home, p.slice(2)) : isAbsolute(p) ? p : resolve(this.cwd, p);
    if (policy.audit.signingKey) return expand(policy.audit.signingKey);
    if (this.env.OPTOUT_SIGNING_KEY) return expand(this.env.OPTOUT_SIGNING_KEY);
    const { git } = await import("./git/run.js");
    const repo = await this.repoInfo();
    const fmt = await git(["config", "--get", "gpg.format"], { cwd: repo.root, allowFailure: true });
    if (fmt.stdout.toString().trim() === "ssh") {
      const key = await git(["config", "--get", "user.signingkey"], { cwd: repo.root, allowFailure: true });
      const value = key.stdout.toString().trim();
      if (value && !value.startsWith("key::")) return expand(value);
    }
    return join(home, ".ssh", "id_ed25519");
  }

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
    const forge =
      policy.provider === "gitlab"
        ? (await import("./providers/gitlab/index.js")).createGitLabProvider(ctx)
        : (await import("./providers/github/index.js")).createGitHubProvider(ctx);
    return this.withSignerCheck(forge);
  });

  /**
   * On a forge the actor comes from the forge; the key that signs the records must belong to the
   * same person: its allowed_signers principal must be the login, or the one policy `signers`
   * maps the login to. Anything else is refused, so nobody signs as someone else.
   */
  private withSignerCheck(provider: ProviderPort): ProviderPort {
    const identity = provider.identity.bind(provider);
    let checked: Promise<import("./core/record.js").Actor> | undefined;
    provider.identity = () => {
      checked ??= (async () => {
        const [actor, policy] = await Promise.all([identity(), this.policy()]);
        const principal = await this.signerPrincipal();
        const expected = policy.signers[actor.login] ?? actor.login;
        if (principal !== expected) {
          throw new NotAllowedError(
            `your signing key belongs to "${principal}" in allowed_signers, but you are ${actor.login} on ${provider.name}`,
            {
              hint: `map the login in the policy: "signers": { "${actor.login}": "${principal}" } (reviewed on the default branch)`,
            },
          );
        }
        return actor;
      })();
      return checked;
    };
    return provider;
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

  /** The ledger as the override flow sees it. */
  readonly ledger = once(async (): Promise<LedgerPort> => {
    const [store, policy] = await Promise.all([this.ledgerStore(), this.policy()]);
    const { signSshsig } = await import("./ledger/sshsig.js");
    const { appendInterruptibly } = await import("./ledger/interruptible.js");
    const sign = async (bytes: Buffer) => signSshsig(bytes, await this.signer(), policy.audit.namespace);
    return {
      current: async () => {
        const f = await store.fetch({ history: true });
        if (!f.reachable)
          this.io.err(
            `optout: warning: cannot reach ${policy.audit.remote} (${f.error}); using the local copy`,
          );
        const ev = await this.evaluateAt(
          store,
          f.exists || !f.reachable ? await store.localTip() : undefined,
        );
        return ev.view(this.now());
      },
      append: async (draftFor, options) => {
        const [signer, principal] = await Promise.all([this.signer(), this.signerPrincipal()]);
        this.io.progress(`pushing the record to ${policy.audit.remote}/${policy.audit.branch}`);
        // Every append is a critical section: Ctrl-C during a push is answered with what landed.
        const append = () =>
          appendInterruptibly(
            store,
            (ev) => draftFor(ev.view(this.now())),
            sign,
            { principal, key: signer.publicKeyBlob },
            {
              signal: this.interrupt?.signal,
              say: (text) => this.io.err(text),
              pushEnds: this.pushEnds,
              ...(options?.keep === false ? { keep: false } : {}),
            },
          );
        const r = await (this.interrupt ? this.interrupt.critical(append) : append()).finally(() =>
          this.io.endProgress(),
        );
        // Mark intents this process is carrying out, so `optout sync` on this machine leaves a
        // running operation alone and settles one whose process died.
        // Only a hint for sync (without it, sync waits --settle-after): a full disk must not fail
        // an operation whose record already landed.
        const note = (e: Error) => this.io.debug(`cannot note the running operation: ${e.message}`);
        if (r.kind === "landed" && r.record.outcome === "intent")
          await store.markRunning(r.record.id).catch(note);
        if (r.kind === "landed" && r.record.type === "result" && r.record.links.intent) {
          await store.clearRunning(r.record.links.intent).catch(note);
        }
        return r;
      },
    };
  });
}

/** A rejected push, in the words an on-call engineer needs: someone else appended first. */
function retryReason(why: string): string {
  return why.startsWith("push rejected") ? "another writer was first" : why;
}

/** owner/name from git@host:owner/name.git, https://host/group/sub/name.git, or a local path. */
export function repoFromUrl(url: string): string | undefined {
  const scp = /^[^/@]+@[^:]+:(.+?)(?:\.git)?\/?$/.exec(url);
  if (scp) return scp[1];
  try {
    const u = new URL(url);
    if (u.protocol !== "file:") {
      const p = u.pathname
        .replace(/^\/+/, "")
        .replace(/\.git\/?$/, "")
        .replace(/\/$/, "");
      return p || undefined;
    }
    return basenameRepo(u.pathname);
  } catch {
    return basenameRepo(url);
  }
}

function basenameRepo(path: string): string | undefined {
  const parts = path.replace(/\/+$/, "").split("/").filter(Boolean);
  const last = parts.at(-1)?.replace(/\.git$/, "");
  return last || undefined;
}
