/**
 * `optout guard <stage>`: runs in every pipeline job, so it imports little and asks git only
 * what it needs: fetch the audit branch and allowed_signers, read the index blob, verify the one
 * record it relies on. skip → exit 0; run → exit 1; anything wrong → exit ≥ 2 (fail closed).
 */
import { appendFile } from "node:fs/promises";
import { ExitCode, QuietExit, UsageError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { findWaiver } from "../../ledger/waiver.js";
import { refForGuard, shaForGuard } from "../refs.js";

export interface GuardOptions {
  stage: string;
  ref?: string;
  sha?: string;
  format?: string;
  strict?: boolean;
}

export async function runGuard(f: Factory, o: GuardOptions): Promise<void> {
  const policy = await f.policy();
  const stage = policy.stages[o.stage];
  if (!stage) {
    throw new UsageError(`unknown stage "${o.stage}"`, {
      hint: `stages in ${policy.file}: ${Object.keys(policy.stages).join(", ") || "none"}`,
    });
  }
  const repo = await f.repoInfo();
  const store = await f.ledgerStore();
  const [fetched, trust, repoName] = await Promise.all([store.fetch(), f.trust(), f.repoName()]);
  if (!fetched.reachable) {
    // An error, not an answer: exit 2, so the pipeline decides (running the stage is the advice).
    throw new UsageError(`cannot fetch the audit branch from ${policy.audit.remote}: ${fetched.error}`, {
      hint: "guard cannot tell whether the stage is waived; fail closed and run it",
    });
  }
  const [ref, sha] = await Promise.all([
    refForGuard(repo.root, o.ref, f.env),
    shaForGuard(repo.root, o.sha, f.env),
  ]);
  const tip = fetched.exists ? await store.localTip() : undefined;
  let decision: Awaited<ReturnType<typeof findWaiver>> = { skip: false, why: "no override", ignored: [] };
  if (tip) {
    const state = await store.state(tip);
    const allowed = (login: string) =>
      stage.allow.some((p) => p.kind === "user" && p.login === login) || policy.provider !== "git";
    decision = await findWaiver(
      store,
      tip,
      state.index,
      { repo: repoName, stage: o.stage, ref, sha, now: f.now() },
      trust,
      policy.audit.namespace,
      allowed,
    );
  }
  // --strict (with review.required): a waived stage still runs while earlier skips of it are
  // overdue for review, so reviews cannot be put off forever. Fail closed: say run, and why.
  const overdue =
    o.strict && decision.skip && tip
      ? await (await import("../review/records.js")).overdueForStage(f, tip, o.stage)
      : [];
  const skip = decision.skip && overdue.length === 0;
  if (o.format === "github" && f.env.GITHUB_OUTPUT) {
    await appendFile(f.env.GITHUB_OUTPUT, `skip=${skip}\n`);
  }
  if (f.io.json) {
    f.io.printJson(
      skip && decision.skip
        ? {
            stage: o.stage,
            ref,
            sha,
            decision: "skip",
            override: decision.record.id,
            expiresAt: decision.record.expiresAt,
            actor: decision.record.actor.login,
            reason: decision.record.reason,
          }
        : {
            stage: o.stage,
            ref,
            sha,
            decision: "run",
            ignored: decision.skip ? [] : decision.ignored,
            ...(overdue.length
              ? { overdueReviews: overdue.map((r) => ({ id: r.record.id, dueAt: r.dueAt })) }
              : {}),
          },
    );
  } else {
    f.io.out(skip ? "skip" : "run");
    if (skip && decision.skip) {
      const r = decision.record;
      f.io.err(
        `optout: ${o.stage} waived by ${r.actor.login} (${r.id})${r.expiresAt ? ` until ${r.expiresAt}` : ""}`,
      );
    } else if (overdue.length) {
      const ids = overdue.map((r) => r.record.id).join(", ");
      f.io.err(
        `optout: ${o.stage} runs (--strict): ${overdue.length} skip(s) of it overdue for review: ${ids}; review with: optout review <id> --verdict … --note …`,
      );
    } else if (!decision.skip) {
      for (const i of decision.ignored) f.io.debug(`ignored ${i.id}: ${i.why}`);
    }
  }
  // "run" is an answer, not an error: exit 1 with nothing more printed.
  if (!skip) throw new QuietExit(ExitCode.failed);
}
