/**
 * An insider's workbench for test/e2e/attacks.test.ts: a colleague with a clone, push access to
 * the audit branch (no force-push: the remote refuses it, as docs/security.md asks), and perhaps a
 * signing key of their own. Commits are built with git plumbing (craft.ts: hash-object, a scratch
 * index, write-tree, commit-tree, update-ref), signed with stock `ssh-keygen -Y sign`, and pushed
 * with `git push` — never through optout's write path. The judges: guard on a fresh clone of the
 * default branch, `optout log --verify`, and docs/auditing.md's stock-tools check.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { IndexEntry, LedgerRecord } from "../../src/core/record.js";
import { docBlock, runShell } from "../docs/helpers.js";
import { type Crafted, type CraftOptions, craft, entryFor, type Link, lastLink, pathOf } from "./craft.js";
import { basePolicy, git, type RunResult, type World } from "./world.js";

const exec = promisify(execFile);

export const reason = "incident INC-4411: the stage is broken upstream";

/**
 * Who is who. alice and bob are on call (lint, deploy, flags); dana alone may skip e2e; bob, lee
 * and carol approve deploys (two of them); mallory holds a key and is allowed nothing.
 */
export const people = ["alice", "bob", "carol", "dana", "lee", "mallory"];

export function insiderPolicy(over: Record<string, unknown> = {}): Record<string, unknown> {
  return basePolicy({
    groups: { oncall: ["user:alice", "user:bob"], approvers: ["user:bob", "user:lee", "user:carol"] },
    stages: {
      lint: { mechanism: "guard", allow: ["oncall"] },
      e2e: { mechanism: "guard", allow: ["user:dana"], maxTtl: "2h" },
      deploy: {
        mechanism: "guard",
        allow: ["oncall"],
        approvals: { required: 2, from: ["approvers"] },
      },
    },
    flags: {
      LOG_LEVEL: { pattern: "^(debug|info)$", allow: ["oncall"] },
      BANNER: { pattern: "^.*$", allow: ["oncall"] },
    },
    ...over,
  });
}

/** The remote refuses force-pushes and deletions, as the docs ask: every attack is a fast-forward. */
export async function protectRemote(w: World): Promise<void> {
  await exec("git", ["-C", w.remote, "config", "receive.denyNonFastForwards", "true"]);
  await exec("git", ["-C", w.remote, "config", "receive.denyDeletes", "true"]);
}

const auditRef = "refs/heads/optout/audit";

/** The insider's clone (made on first use), its audit branch as a local branch, fetched fresh. */
async function insiderClone(w: World): Promise<string> {
  const dir = join(w.dir, "insider");
  if (!existsSync(dir)) await exec("git", ["clone", "-q", w.remote, dir]);
  await exec("git", ["-C", dir, "fetch", "-q", "origin", `+${auditRef}:${auditRef}`]).catch(() => {
    // No audit branch yet: the first crafted commit starts it.
  });
  return dir;
}

/**
 * Crafts one commit on the insider's copy of the audit branch (craft.ts's options: the record,
 * who signs it, the index, the message...) and pushes it, without force. Fails if the push does.
 */
export async function pushCrafted(w: World, o: CraftOptions): Promise<Crafted> {
  const dir = await insiderClone(w);
  const made = await craft(join(dir, ".git"), o);
  await exec("git", ["-C", dir, "push", "-q", "origin", `${auditRef}:${auditRef}`]);
  return made;
}

/** The newest record on the remote's audit branch: what a crafted record chains onto. */
export function tail(w: World): Promise<Link | undefined> {
  return lastLink(w.remote);
}

/**
 * The commit message optout's writer would give `r`, nominating `active` (the guard's fast path
 * reads these lines: whoever pushes the tip writes them).
 */
export function messageFor(r: LedgerRecord, active: readonly IndexEntry[]): string {
  const lines = active.map(
    (e) =>
      `Optout-Active: ${JSON.stringify({ id: e.id, op: e.op, target: e.target, expiresAt: e.expiresAt, record: e.record })}\n`,
  );
  return `optout: ${r.type} ${r.id}\n\n${lines.join("")}Optout-Index: ${lines.length}\nOptout-Seq: ${r.seq}\nOptout-Record: ${pathOf(r.id, Date.parse(r.time))}\n`;
}

/**
 * `r` signed by `signer`'s key (a person of the world, or a key path), pushed as its own commit
 * whose message and index nominate it (plus `alsoNominate`).
 */
export function pushSigned(
  w: World,
  r: LedgerRecord,
  signer: string,
  o: Omit<CraftOptions, "record" | "signWith"> & { alsoNominate?: IndexEntry[] } = {},
): Promise<Crafted> {
  const { alsoNominate = [], ...rest } = o;
  const nominated = [...alsoNominate, entryFor(r)];
  return pushCrafted(w, {
    record: r,
    signWith: w.keys[signer]?.privatePath ?? signer,
    message: messageFor(r, nominated),
    index: { v: 1, seq: r.seq, active: nominated, pending: [], inflight: [] },
    ...rest,
  });
}

export interface GuardAnswer extends RunResult {
  decision: "skip" | "run" | undefined;
  json: {
    decision?: string;
    why?: string;
    override?: string;
    ignored?: { id: string; why: string }[];
  };
}

/**
 * `optout guard <stage> --json` as a pipeline runs it: on a fresh clone of the default branch
 * (full, or `shallow` as CI checks out), by nobody in particular (no signing key), with the
 * pipeline's environment.
 */
export async function guardOnFreshClone(
  w: World,
  stage: string,
  o: { args?: string[]; env?: Record<string, string>; shallow?: boolean } = {},
): Promise<GuardAnswer> {
  const name = `ci-${Math.random().toString(36).slice(2, 10)}`;
  let dir: string;
  if (o.shallow) {
    // As a pipeline job starts: depth 1 (actions/checkout, GitLab's GIT_DEPTH).
    dir = join(w.dir, name);
    await exec("git", ["clone", "-q", "--depth=1", `file://${w.remote}`, dir]);
  } else {
    dir = await w.clone(name);
  }
  const r = await w.run("ci", ["guard", stage, "--json", ...(o.args ?? [])], { cwd: dir, env: o.env ?? {} });
  let json: GuardAnswer["json"] = {};
  try {
    json = JSON.parse(r.stdout);
  } catch {
    // Not an answer (an error): decision stays undefined.
  }
  const decision = json.decision === "skip" || json.decision === "run" ? json.decision : undefined;
  return { ...r, decision, json };
}

export interface VerifyAnswer extends RunResult {
  report: {
    ok: boolean;
    records: number;
    problems: { id: string | null; commit: string; problem: string }[];
    warnings: { id: string | null; problem: string }[];
  };
}

/** `optout log --verify --json` on a fresh clone. */
export async function verifyOnFreshClone(
  w: World,
  extra: Record<string, string> = {},
): Promise<VerifyAnswer> {
  const dir = await w.clone(`verify-${Math.random().toString(36).slice(2, 10)}`);
  const r = await w.run("ci", ["log", "--verify", "--json"], { cwd: dir, env: extra });
  return { ...r, report: JSON.parse(r.stdout) };
}

/** A read-only optout command on a fresh clone (status, flag get, log...). */
export async function readOnFreshClone(
  w: World,
  args: string[],
  env: Record<string, string> = {},
): Promise<RunResult> {
  const dir = await w.clone(`read-${Math.random().toString(36).slice(2, 10)}`);
  return w.run("ci", args, { cwd: dir, env });
}

/**
 * docs/auditing.md's full check, run as written with stock tools only (no optout on PATH) on a
 * fresh clone: it checks signatures at each record's own time, seq, prev, parents and files. It
 * knows nothing of the policy, and stops at the first commit that is not a record.
 */
export async function stockCheck(w: World): Promise<RunResult & { ok: boolean }> {
  const dir = await w.clone(`audit-${Math.random().toString(36).slice(2, 10)}`);
  const script = join(w.dir, "verify-ledger.sh");
  if (!existsSync(script)) {
    const { writeFile } = await import("node:fs/promises");
    await writeFile(script, await docBlock("docs/auditing.md", "auditing:full"));
  }
  const r = await runShell("sh", [script], {
    cwd: dir,
    env: { PATH: "/usr/bin:/bin", HOME: w.dir, LC_ALL: "C" },
  });
  return { ...r, ok: r.code === 0 && !/^BAD /m.test(r.stdout) };
}

/** The commit a ref of the remote points at. */
export function remoteTip(w: World, ref = "optout/audit"): Promise<string> {
  return git(w.remote, "rev-parse", ref);
}
