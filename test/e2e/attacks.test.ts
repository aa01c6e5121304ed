/**
 * Issue 16, "Nothing unsigned or unauthorized is believed": each attack an insider tried, as a
 * test. The insider is a colleague with push access to the audit branch (never force-push: the
 * remote refuses it) and perhaps a signing key of their own; every attack commit is built with git
 * plumbing and `ssh-keygen -Y sign` (test/helpers/craft.ts, insider.ts) and pushed with `git
 * push`, never through optout's write path. The judges are the built CLI on a fresh clone of the
 * default branch — guard as a pipeline runs it, the readers, `log --verify` — and, where the
 * issue asks, docs/auditing.md's stock-tools check. Each attack has an honest baseline beside it
 * that still works, so a test cannot pass by optout believing nothing at all.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import type { LedgerRecord } from "../../src/core/record.js";
import { canonicalize } from "../../src/ledger/canonical.js";
import {
  approveRecord,
  entryFor,
  flagRecord,
  idAt,
  indexAt,
  pathOf,
  record,
  sha256,
  skipRecord,
} from "../helpers/craft.js";
import {
  guardOnFreshClone,
  insiderPolicy,
  messageFor,
  people,
  protectRemote,
  pushCrafted,
  pushSigned,
  readOnFreshClone,
  reason,
  stockCheck,
  tail,
  verifyOnFreshClone,
} from "../helpers/insider.js";
import { allowedSignersLine } from "../helpers/keys.js";
import { git, makeWorld, type World } from "../helpers/world.js";

const exec = promisify(execFile);
const token = `ghp_${"aZ09bY18cX27dW36eV45".repeat(2).slice(0, 36)}`;
const hour = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** Controls no output line may carry raw (tab and newline are the only ones allowed). */
const rawControl = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

let worlds: World[] = [];
afterEach(async () => {
  await Promise.all(worlds.map((w) => w.cleanup()));
  worlds = [];
});

async function world(): Promise<World> {
  const w = await makeWorld({ people, policy: insiderPolicy() });
  worlds.push(w);
  await protectRemote(w);
  return w;
}

/** An honest command by `person` in their own clone; it must succeed (or exit as `code`). */
async function honest(w: World, person: string, args: string[], code = 0, env: Record<string, string> = {}) {
  const r = await w.run(person, [...args, "--json"], { env });
  expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code, stderr: expect.any(String) });
  return JSON.parse(r.stdout) as { id: string; record: LedgerRecord };
}

const whyOf = (g: { json: { ignored?: { id: string; why: string }[] } }, id: string) =>
  g.json.ignored?.find((i) => i.id === id)?.why;

describe("issue 16: attacks by an insider", () => {
  it("1. identity: a record claiming dana, signed with mallory's key, waives nothing", async () => {
    const w = await world();
    // mallory's key, mallory as signer, dana as the actor.
    const claims = skipRecord(
      { stage: "e2e", actor: "dana", signer: "mallory", time: iso(Date.now()) },
      await tail(w),
    );
    await pushSigned(w, claims, "mallory");
    // mallory's key, dana as signer and actor: allowed_signers lists no such key for dana.
    const asDana = skipRecord({ stage: "e2e", actor: "dana", time: iso(Date.now()) }, await tail(w));
    await pushSigned(w, asDana, "mallory", { alsoNominate: [entryFor(claims)] });
    // mallory as herself: a valid record, but the policy in force lets only dana skip e2e.
    const own = skipRecord({ stage: "e2e", actor: "mallory", time: iso(Date.now()) }, await tail(w));
    await pushSigned(w, own, "mallory", { alsoNominate: [entryFor(claims), entryFor(asDana)] });

    const g = await guardOnFreshClone(w, "e2e");
    expect([g.code, g.decision]).toEqual([1, "run"]);
    expect(whyOf(g, claims.id)).toMatch(/claims actor "dana" but is signed by "mallory"/);
    expect(whyOf(g, asDana.id)).toMatch(/signer "dana" with this key is not in allowed_signers/);
    expect(whyOf(g, own.id)).toBe("mallory may not skip stage e2e");
    // Without --json, the same reasons on stderr.
    const plain = await w.run("ci", ["guard", "e2e"], { cwd: await w.clone("plain") });
    expect([plain.code, plain.stdout]).toEqual([1, "run\n"]);
    expect(plain.stderr).toContain(`ignored ${claims.id}: record claims actor "dana"`);

    // Readers: nobody shows "by dana"; log --verify names all three.
    const log = await readOnFreshClone(w, ["log"]);
    expect(log.stdout).not.toMatch(/by dana/);
    expect(log.stderr).toMatch(/2 commit\(s\) on the audit branch do not count/);
    const v = await verifyOnFreshClone(w);
    expect(v.code).toBe(1);
    const flagged = v.report.problems.map((p) => p.id);
    expect(flagged).toEqual(expect.arrayContaining([claims.id, asDana.id, own.id]));

    // Baseline: dana's own skip, through optout, is honoured.
    const ok = await honest(w, "dana", ["skip", "e2e", "--reason", reason, "--ttl", "1h"]);
    const g2 = await guardOnFreshClone(w, "e2e");
    expect([g2.code, g2.decision, g2.json.override]).toEqual([0, "skip", ok.id]);
  });

  it("2. pinning: a local policy edit or an untracked .optoutrc grants nothing; a TTL beyond maxTtl counts for nothing", async () => {
    const w = await world();
    const mine = await w.clone("mallory");
    // mallory's draft: e2e and every flag hers, no maxTtl, no approvals; and an untracked
    // .optoutrc, first in the search order, saying the same.
    const edited = insiderPolicy({
      defaults: { ttl: "4h", reason: { minLength: 1 } },
      stages: {
        lint: { mechanism: "guard", allow: ["user:mallory"] },
        e2e: { mechanism: "guard", allow: ["user:mallory"] },
        deploy: { mechanism: "guard", allow: ["user:mallory"] },
      },
      flags: { LOG_LEVEL: { pattern: "^.*$", allow: ["user:mallory"] } },
    });
    delete (edited as { pin?: unknown }).pin;
    await writeFile(join(mine, ".optoutrc.json"), JSON.stringify(edited, null, 2));
    const skip = await w.run("mallory", ["skip", "e2e", "--ttl", "3650d", "--reason", reason], { cwd: mine });
    expect(skip.code, skip.stderr).toBe(3);
    const flag = await w.run("mallory", ["flag", "set", "LOG_LEVEL", "debug", "--reason", reason], {
      cwd: mine,
    });
    expect(flag.code, flag.stderr).toBe(3);
    // An untracked .optoutrc comes first in the search order: the default branch has no such
    // file, so nothing is decided at all (exit 2).
    await writeFile(join(mine, ".optoutrc"), JSON.stringify(edited, null, 2));
    const untracked = await w.run("mallory", ["skip", "e2e", "--reason", reason], { cwd: mine });
    expect(untracked.code).toBe(2);
    expect(untracked.stderr).toMatch(/\.optoutrc is not on origin\/main/);
    await rm(join(mine, ".optoutrc"));
    // A dry run reads the draft, and says so.
    const dry = await w.run("mallory", ["skip", "e2e", "--reason", reason, "--dry-run"], { cwd: mine });
    expect(dry.stderr + dry.stdout).toMatch(/working copy/);

    // Crafted instead: dana (allowed for e2e) signs a ten-year skip; mallory signs a flag.
    const long = skipRecord(
      { stage: "e2e", actor: "dana", time: iso(Date.now()), ttlMs: 3650 * 24 * hour },
      await tail(w),
    );
    await pushSigned(w, long, "dana");
    const flagged = flagRecord(
      { flag: "LOG_LEVEL", value: "debug", actor: "mallory", time: iso(Date.now()) },
      await tail(w),
    );
    await pushSigned(w, flagged, "mallory", { alsoNominate: [entryFor(long)] });

    const g = await guardOnFreshClone(w, "e2e");
    expect([g.code, g.decision]).toEqual([1, "run"]);
    expect(whyOf(g, long.id)).toMatch(/maxTtl|TTL/);
    // In mallory's own clone, with her draft, too.
    const inMine = await w.run("ci", ["guard", "e2e", "--json"], { cwd: mine });
    expect(JSON.parse(inMine.stdout).decision).toBe("run");
    const get = await readOnFreshClone(w, ["flag", "get", "LOG_LEVEL"]);
    expect([get.code, get.stdout]).toEqual([1, ""]);
    const getMine = await w.run("ci", ["flag", "get", "LOG_LEVEL"], { cwd: mine });
    expect([getMine.code, getMine.stdout]).toEqual([1, ""]);
    const v = await verifyOnFreshClone(w);
    expect(v.report.problems.map((p) => p.id)).toEqual(expect.arrayContaining([long.id, flagged.id]));

    // Baseline: alice's flag and dana's 1h skip, through optout, count.
    await honest(w, "alice", ["flag", "set", "LOG_LEVEL", "debug", "--reason", reason]);
    expect((await readOnFreshClone(w, ["flag", "get", "LOG_LEVEL"])).stdout).toBe("debug\n");
    await honest(w, "dana", ["skip", "e2e", "--reason", reason, "--ttl", "1h"]);
    expect((await guardOnFreshClone(w, "e2e")).decision).toBe("skip");
  });

  it("3. flag values are re-validated on read: no extra dotenv line, nothing runs when sourced", async () => {
    const w = await world();
    // Baseline first: alice's honest value.
    await honest(w, "alice", ["flag", "set", "LOG_LEVEL", "info", "--reason", reason]);
    // alice's own key, values the policy in force does not declare.
    const injected = flagRecord(
      {
        flag: "LOG_LEVEL",
        value: "debug\nNODE_OPTIONS=--require=/tmp/pwn.js",
        actor: "alice",
        time: iso(Date.now()),
      },
      await tail(w),
    );
    await pushSigned(w, injected, "alice");
    const outside = flagRecord(
      { flag: "LOG_LEVEL", value: "trace", actor: "alice", time: iso(Date.now()) },
      await tail(w),
    );
    await pushSigned(w, outside, "alice");
    const banner = flagRecord(
      { flag: "BANNER", value: "$(touch pwned) `touch pwned`", actor: "alice", time: iso(Date.now()) },
      await tail(w),
    );
    await pushSigned(w, banner, "alice", { alsoNominate: [entryFor(outside)] });

    const get = await readOnFreshClone(w, ["flag", "get", "LOG_LEVEL"]);
    expect([get.code, get.stdout]).toEqual([0, "info\n"]);
    const list = await readOnFreshClone(w, ["flag", "list", "--format", "dotenv"]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).not.toMatch(/NODE_OPTIONS|trace/);
    expect(list.stdout.trimEnd().split("\n").sort()).toEqual([
      "BANNER='$(touch pwned) `touch pwned`'",
      "LOG_LEVEL='info'",
    ]);
    await writeFile(join(w.dir, "flags.env"), list.stdout);
    const sourced = await exec("sh", ["-c", '. ./flags.env; printf "%s|%s" "$LOG_LEVEL" "$BANNER"'], {
      cwd: w.dir,
      env: { PATH: "/usr/bin:/bin", HOME: w.dir },
    });
    expect(sourced.stdout).toBe("info|$(touch pwned) `touch pwned`");
    expect(existsSync(join(w.dir, "pwned"))).toBe(false);
    const v = await verifyOnFreshClone(w);
    expect(v.report.problems.map((p) => p.id)).toEqual(expect.arrayContaining([injected.id, outside.id]));
  });

  it("4. the index only nominates: a reverted skip put back under a fake id, signed or not, is not believed nor copied forward", async () => {
    const w = await world();
    const skip = await honest(w, "alice", ["skip", "lint", "--reason", reason]);
    expect((await guardOnFreshClone(w, "lint")).decision).toBe("skip"); // baseline
    await honest(w, "bob", ["revert", skip.id, "--reason", reason]);
    const entry = { ...entryFor(skip.record), record: pathOf(skip.record.id, Date.parse(skip.record.time)) };
    const fake = { ...entry, id: idAt(Date.now()), expiresAt: iso(Date.now() + hour) };
    // A keyless commit: the index and the message list the reverted skip, under its id and a fake one.
    const junkCommit = await pushCrafted(w, {
      index: { v: 1, seq: 9, active: [entry, fake], pending: [], inflight: [] },
      message: messageFor(skip.record, [entry, fake]).replace(/^optout: .*/, "optout: refresh index"),
    });
    let g = await guardOnFreshClone(w, "lint");
    expect([g.code, g.decision]).toEqual([1, "run"]);
    expect(whyOf(g, skip.id)).toMatch(/^ended by /);
    expect(whyOf(g, fake.id)).toBeDefined();
    // Inside a validly signed commit: mallory's own (harmless) record, the same index.
    const note = record(
      {
        type: "deny",
        op: "skip",
        actor: "mallory",
        time: iso(Date.now()),
        target: { stage: "lint", ref: "main", sha: null },
        outcome: "denied",
      },
      await tail(w),
    );
    await pushCrafted(w, {
      record: note,
      signWith: w.keys.mallory!.privatePath,
      index: { v: 1, seq: note.seq, active: [entry, fake], pending: [], inflight: [] },
      message: messageFor(note, [entry, fake]),
    });
    g = await guardOnFreshClone(w, "lint");
    expect([g.code, g.decision]).toEqual([1, "run"]);
    expect((await readOnFreshClone(w, ["status", "--json"])).stdout).not.toContain(skip.id);
    const v = await verifyOnFreshClone(w);
    expect(v.report.problems.map((p) => p.commit)).toContain(junkCommit.commit);

    // An honest writer next: what it nominates comes from the records, not the poisoned index.
    await honest(w, "alice", ["flag", "set", "LOG_LEVEL", "info", "--reason", reason]);
    const index = await indexAt(w.remote);
    expect(index.active.map((e) => e.id)).not.toEqual(expect.arrayContaining([skip.id]));
    expect(index.active.map((e) => e.id)).not.toContain(fake.id);
    const message = await git(w.remote, "log", "-1", "--format=%B", "optout/audit");
    expect(message).not.toContain(skip.id);
    expect(message).not.toContain(fake.id);
    expect((await guardOnFreshClone(w, "lint")).decision).toBe("run");
  });

  it("5. approvals are counted from signed approve records: a forged index approval and a record's own claims count for nothing", async () => {
    const w = await world();
    const req = await honest(w, "alice", ["skip", "deploy", "--reason", reason], 4);
    const requestId = req.id;
    // mallory, keyless: the index says lee approved.
    const index = await indexAt(w.remote);
    const forged = {
      ...index,
      pending: index.pending.map((e) =>
        e.id === requestId
          ? { ...e, approvals: [{ login: "lee", record: pathOf(idAt(Date.now()), Date.now()) }] }
          : e,
      ),
    };
    expect(forged.pending.some((e) => e.id === requestId)).toBe(true);
    await pushCrafted(w, { index: forged, message: "optout: refresh index\n" });
    // bob's real approval is the first, not the second.
    const bob = await w.run("bob", ["approve", requestId, "--json"]);
    expect(bob.code, bob.stderr).toBe(4);
    expect(bob.stderr).toMatch(/1 of 2 approvals/);
    const status = JSON.parse((await readOnFreshClone(w, ["status", "--json"])).stdout);
    expect(JSON.stringify(status)).not.toMatch(/"lee"/);
    expect((await guardOnFreshClone(w, "deploy")).decision).toBe("run");

    // alice, with her key, applies her own request claiming bob and lee approved.
    const chain = await tail(w);
    const applied = skipRecord(
      {
        stage: "deploy",
        actor: "alice",
        time: iso(Date.now()),
        links: { request: requestId },
        requester: "alice",
        approvers: ["bob", "lee"],
      },
      chain,
    );
    await pushSigned(w, applied, "alice");
    const g = await guardOnFreshClone(w, "deploy");
    expect([g.code, g.decision]).toEqual([1, "run"]);
    expect(whyOf(g, applied.id)).toMatch(/approv/);
    const v = await verifyOnFreshClone(w);
    expect(v.report.problems.map((p) => p.id)).toContain(applied.id);

    // Baseline: lee's real approval applies it, listing the two who approved.
    const lee = await honest(w, "lee", ["approve", requestId]);
    expect(lee.record.approvers).toEqual(["bob", "lee"]);
    const g2 = await guardOnFreshClone(w, "deploy");
    expect([g2.decision, g2.json.override]).toEqual(["skip", lee.id]);
  });

  it("6. time: a retired key cannot backdate; a clock two days ahead gets no more than maxTtl and leaves no false alarm", async () => {
    const w = await world();
    const t0 = Date.now();
    // bob, honestly, three hours ago; then his key is retired an hour ago.
    await honest(w, "bob", ["skip", "lint", "--reason", reason, "--ttl", "1h"], 0, {
      OPTOUT_NOW: iso(t0 - 3 * hour),
    });
    const retired = new Date(t0 - hour)
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.\d+Z$/, "Z")
      .replace("T", "");
    await w.pushMain(
      {
        ".optout/allowed_signers": `${people
          .map((p) =>
            allowedSignersLine(
              p,
              w.keys[p]!.publicLine,
              p === "bob" ? `valid-before="${retired}"` : undefined,
            ),
          )
          .join("\n")}\n`,
      },
      "bob leaves: retire his key",
    );
    await honest(w, "alice", ["flag", "set", "LOG_LEVEL", "info", "--reason", reason]);
    expect((await verifyOnFreshClone(w)).report.ok).toBe(true);
    expect((await stockCheck(w)).ok).toBe(true);
    // bob's retired key signs a skip dated two hours ago, after alice's record of now.
    const backdated = skipRecord(
      { stage: "lint", actor: "bob", time: iso(t0 - 2 * hour), ttlMs: 24 * hour },
      await tail(w),
    );
    const bd = await pushSigned(w, backdated, "bob");
    const g = await guardOnFreshClone(w, "lint");
    expect([g.code, g.decision]).toEqual([1, "run"]);
    expect(whyOf(g, backdated.id) ?? "").toMatch(/is before/);
    const v = await verifyOnFreshClone(w);
    expect(v.report.problems.find((p) => p.commit === bd.commit)?.problem).toMatch(/is before/);
    const stock = await stockCheck(w);
    expect(stock.ok).toBe(false);
    expect(stock.stdout).toMatch(/BAD .*time .* is before the record it follows/);

    // A writer whose clock runs two days ahead: warned, and its skip counts from the time it claims.
    const ahead = t0 + 48 * hour;
    const skew = await w.run("alice", ["skip", "lint", "--reason", reason, "--ttl", "24h", "--json"], {
      env: { OPTOUT_NOW: iso(ahead) },
    });
    expect(skew.code, skew.stderr).toBe(0);
    expect(skew.stderr).toMatch(/clock .*ahead/);
    const future = JSON.parse(skew.stdout).id as string;
    const now = await guardOnFreshClone(w, "lint");
    expect(now.decision).toBe("run");
    const later = await guardOnFreshClone(w, "lint", { env: { OPTOUT_NOW: iso(ahead + hour) } });
    expect([later.decision, later.json.override], JSON.stringify(later.json)).toEqual(["skip", future]);
    const past = await guardOnFreshClone(w, "lint", { env: { OPTOUT_NOW: iso(ahead + 24 * hour + 60_000) } });
    expect(past.decision).toBe("run");
    // An honest writer at the true time is refused (exit 2, naming the record), not turned into junk.
    const held = await w.run("dana", ["skip", "e2e", "--reason", reason, "--ttl", "1h"]);
    expect(held.code).toBe(2);
    expect(held.stderr).toMatch(new RegExp(`behind the ledger's newest record[\\s\\S]*${future}`));
    // Once that time has come, records follow, and nothing is reported as altered.
    await honest(w, "dana", ["skip", "e2e", "--reason", reason, "--ttl", "1h"], 0, {
      OPTOUT_NOW: iso(ahead + hour),
    });
    const after = await verifyOnFreshClone(w, { OPTOUT_NOW: iso(ahead + 2 * hour) });
    expect(after.report.problems.map((p) => p.commit)).toEqual([bd.commit]);
  });

  it("0. baseline: an honest skip written hours ago is honoured until its TTL, and not after", async () => {
    const w = await world();
    const t0 = Date.now();
    const skip = await honest(w, "alice", ["skip", "lint", "--reason", reason, "--ttl", "20h"], 0, {
      OPTOUT_NOW: iso(t0 - 19 * hour),
    });
    for (const shallow of [false, true]) {
      const g = await guardOnFreshClone(w, "lint", { shallow });
      expect([shallow, g.code, g.decision, g.json.override]).toEqual([shallow, 0, "skip", skip.id]);
    }
    const late = await guardOnFreshClone(w, "lint", { env: { OPTOUT_NOW: iso(t0 + 2 * hour) } });
    expect(late.decision).toBe("run");
    expect(await stockCheck(w)).toMatchObject({ ok: true });
    expect((await verifyOnFreshClone(w)).report).toMatchObject({ ok: true, records: 1 });
  });

  it("7. junk on the audit branch does not brick the ledger: honest records after it count", async () => {
    const w = await world();
    await honest(w, "alice", ["flag", "set", "LOG_LEVEL", "info", "--reason", reason]);
    // Keyless: a record-shaped file with seq 1 and no signature, then a commit that is no record.
    const bogus = skipRecord({ stage: "lint", actor: "alice", time: iso(Date.now()) }, null);
    const j1 = await pushCrafted(w, { record: bogus, message: messageFor(bogus, [entryFor(bogus)]) });
    const unsigned = await guardOnFreshClone(w, "lint");
    expect([unsigned.decision, whyOf(unsigned, bogus.id)]).toEqual(["run", "record has no signature"]);
    const j2 = await pushCrafted(w, { files: { "notes.txt": "nothing to see\n" }, index: null });
    expect((await guardOnFreshClone(w, "lint")).decision).toBe("run");
    const skip = await honest(w, "alice", ["skip", "lint", "--reason", reason]);
    const g = await guardOnFreshClone(w, "lint");
    expect([g.decision, g.json.override]).toEqual(["skip", skip.id]);
    await honest(w, "bob", ["revert", skip.id, "--reason", reason]);
    expect((await guardOnFreshClone(w, "lint")).decision).toBe("run");
    const v = await verifyOnFreshClone(w);
    expect(v.report.records).toBe(3);
    expect(v.report.problems.map((p) => p.commit).sort()).toEqual([j1.commit, j2.commit].sort());
    expect(v.stderr).toBe("");
    // The stock check agrees that the branch holds something that is not a record.
    expect((await stockCheck(w)).ok).toBe(false);
  });

  it("8. forks: a pull request from a fork's main, or a fork's merge request, runs the stage", async () => {
    const w = await world();
    const skip = await honest(w, "alice", ["skip", "lint", "--reason", reason]);
    const event = async (head: string | null) => {
      const path = join(w.dir, `event-${(head ?? "deleted").replace("/", "-")}.json`);
      await writeFile(
        path,
        JSON.stringify({ pull_request: { head: { ref: "main", repo: head ? { full_name: head } : null } } }),
      );
      return path;
    };
    const github = (extra: Record<string, string>) => ({
      GITHUB_ACTIONS: "true",
      GITHUB_REPOSITORY: "acme/shop",
      GITHUB_SHA: "0".repeat(40),
      ...extra,
    });
    const pr = async (head: string | null, more: Record<string, string> = {}) =>
      guardOnFreshClone(w, "lint", {
        env: github({
          GITHUB_EVENT_NAME: "pull_request",
          GITHUB_HEAD_REF: "main",
          GITHUB_REF_NAME: "42/merge",
          GITHUB_EVENT_PATH: await event(head),
          ...more,
        }),
      });
    const fork = await pr("mallory/shop");
    expect([fork.code, fork.decision]).toEqual([1, "run"]);
    expect(fork.json.why).toMatch(/mallory\/shop/);
    const forkPlain = await w.run("ci", ["guard", "lint"], {
      cwd: await w.clone("fork-plain"),
      env: github({
        GITHUB_EVENT_NAME: "pull_request",
        GITHUB_HEAD_REF: "main",
        GITHUB_EVENT_PATH: await event("mallory/shop"),
      }),
    });
    expect([forkPlain.code, forkPlain.stdout]).toEqual([1, "run\n"]);
    expect(forkPlain.stderr).toMatch(/^optout: lint runs: a pipeline of mallory\/shop/);
    expect((await pr(null)).decision).toBe("run");
    // No payload to read: the source is unknown, the stage runs.
    const blind = await guardOnFreshClone(w, "lint", {
      env: github({
        GITHUB_EVENT_NAME: "pull_request_target",
        GITHUB_HEAD_REF: "main",
        GITHUB_REF_NAME: "main",
      }),
    });
    expect(blind.decision).toBe("run");
    const gitlab = {
      GITLAB_CI: "true",
      CI_PIPELINE_SOURCE: "merge_request_event",
      CI_COMMIT_REF_NAME: "main",
      CI_COMMIT_SHA: "0".repeat(40),
      CI_PROJECT_ID: "1",
      CI_PROJECT_PATH: "acme/shop",
      CI_MERGE_REQUEST_SOURCE_PROJECT_ID: "99",
      CI_MERGE_REQUEST_SOURCE_PROJECT_PATH: "mallory/shop",
    };
    const mr = await guardOnFreshClone(w, "lint", { env: gitlab });
    expect([mr.code, mr.decision]).toEqual([1, "run"]);
    expect(mr.json.why).toMatch(/mallory\/shop/);

    // Baselines: the repository's own pipelines on main are waived.
    const push = await guardOnFreshClone(w, "lint", {
      env: github({ GITHUB_EVENT_NAME: "push", GITHUB_REF_NAME: "main" }),
    });
    expect([push.decision, push.json.override]).toEqual(["skip", skip.id]);
    expect((await pr("acme/shop")).decision).toBe("skip");
    const own = await guardOnFreshClone(w, "lint", {
      env: {
        ...gitlab,
        CI_MERGE_REQUEST_SOURCE_PROJECT_ID: "1",
        CI_MERGE_REQUEST_SOURCE_PROJECT_PATH: "acme/shop",
      },
    });
    expect(own.decision).toBe("skip");
  });

  it("9. input: a token in --reason, escapes and options in --ref, invisible reasons are refused; crafted ones are not shown raw", async () => {
    const w = await world();
    const before = await git(w.remote, "rev-list", "--all", "--count");
    const refuse = async (args: string[], message: RegExp) => {
      const r = await w.run("alice", args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain(token);
      expect(r.stderr).not.toMatch(rawControl);
      expect(r.stderr.trimEnd().split("\n").length).toBeLessThanOrEqual(2);
    };
    await refuse(
      ["skip", "lint", "--reason", `rotating ${token} after the leak`],
      /--reason .*(secret|token)/,
    );
    await refuse(
      ["skip", "lint", "--reason", reason, "--ref", "main\u001b]0;pwned\u0007"],
      /--ref .*control/,
    );
    await refuse(["skip", "lint", "--reason", reason, "--ref", "main\nrun: everything"], /--ref .*control/);
    await refuse(
      ["skip", "lint", "--reason", reason, "--ref", "-x --upload-pack=touch /tmp/pwned"],
      /--ref /,
    );
    await refuse(["skip", "lint", "--reason", reason, "--ref", "../../etc"], /--ref /);
    await refuse(["skip", "lint", "--reason", reason, "--ref", "a".repeat(100_000)], /--ref .*255 bytes/);
    await refuse(["skip", "lint", "--reason", "\u200b".repeat(16)], /--reason/);
    expect(await git(w.remote, "rev-list", "--all", "--count")).toBe(before);

    // Crafted with alice's key: a token in the reason of a valid skip, an escape in the ref of another.
    const leaked = skipRecord(
      { stage: "lint", actor: "alice", time: iso(Date.now()), reason: `rotating ${token} after the leak` },
      await tail(w),
    );
    await pushSigned(w, leaked, "alice");
    const escaped = skipRecord(
      { stage: "lint", ref: "main\u001b]0;pwned\u0007\nok", actor: "alice", time: iso(Date.now()) },
      await tail(w),
    );
    await pushSigned(w, escaped, "alice", { alsoNominate: [entryFor(leaked)] });
    for (const args of [["log"], ["status"], ["log", "--verify"], ["guard", "lint"]]) {
      const r = await readOnFreshClone(w, args);
      expect({ args, token: (r.stdout + r.stderr).includes(token) }).toEqual({ args, token: false });
      expect({ args, raw: rawControl.test(r.stdout + r.stderr) }).toEqual({ args, raw: false });
    }
    const g = await guardOnFreshClone(w, "lint", { args: ["--ref", "main"] });
    expect([g.decision, g.json.override]).toEqual(["skip", leaked.id]);
    expect(JSON.stringify(g.json)).not.toContain(token);
    const v = await verifyOnFreshClone(w);
    expect(v.report.problems.map((p) => p.id)).toContain(escaped.id);
  });

  it("10. one person, two principals: an approval signed with the requester's key under another name does not count", async () => {
    const w = await world();
    // alice's key is also listed as "al", whom the policy lets approve.
    const signers = people.map((p) => allowedSignersLine(p, w.keys[p]!.publicLine));
    signers.push(allowedSignersLine("al", w.keys.alice!.publicLine));
    const policy = insiderPolicy({
      groups: { oncall: ["user:alice", "user:bob"], approvers: ["user:bob", "user:lee", "user:al"] },
    });
    await w.pushMain(
      {
        ".optout/allowed_signers": `${signers.join("\n")}\n`,
        ".optoutrc.json": `${JSON.stringify(policy, null, 2)}\n`,
      },
      "al may approve",
    );
    const check = await readOnFreshClone(w, ["policy", "check"]);
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(/two principals|more than one principal|under .*al/);

    const req = await honest(w, "alice", ["skip", "deploy", "--reason", reason], 4);
    const self = approveRecord({ request: req.record, actor: "al", time: iso(Date.now()) }, await tail(w));
    const crafted = await pushSigned(w, self, "alice");
    expect(crafted.commit).toBeTruthy();
    const bob = await w.run("bob", ["approve", req.id, "--json"]);
    expect(bob.code, bob.stderr).toBe(4);
    expect(bob.stderr).toMatch(/1 of 2 approvals/);
    expect((await guardOnFreshClone(w, "deploy")).decision).toBe("run");
    // Baseline: another person's approval applies it.
    await honest(w, "lee", ["approve", req.id]);
    expect((await guardOnFreshClone(w, "deploy")).decision).toBe("skip");
  });

  it("11. guard answers under no policy that the other commands reject", async () => {
    const w = await world();
    await honest(w, "alice", ["skip", "lint", "--reason", reason]);
    expect((await guardOnFreshClone(w, "lint")).decision).toBe("skip"); // baseline
    const broken: Record<string, unknown>[] = [
      insiderPolicy({ defaults: { ttl: "4h", maxTtl: "forever" } }),
      insiderPolicy({ groups: { oncall: ["user:alice", "team:"] } }),
      { ...insiderPolicy(), surprise: true },
    ];
    for (const policy of broken) {
      await w.pushMain(
        { ".optoutrc.json": `${JSON.stringify(policy, null, 2)}\n` },
        "a policy nobody checked",
      );
      const status = await readOnFreshClone(w, ["status"]);
      const g = await guardOnFreshClone(w, "lint");
      expect({ policy, status: status.code, guard: g.code }).toEqual({ policy, status: 2, guard: 2 });
      expect(g.decision).toBeUndefined();
    }
  });

  it("12. auditing.md's stock check and optout agree on a retired key's records", async () => {
    const w = await world();
    const t0 = Date.now();
    await honest(w, "bob", ["skip", "lint", "--reason", reason, "--ttl", "1h"], 0, {
      OPTOUT_NOW: iso(t0 - 3 * hour),
    });
    const retired = new Date(t0 - 2 * hour)
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.\d+Z$/, "Z")
      .replace("T", "");
    await w.pushMain(
      {
        ".optout/allowed_signers": `${people
          .map((p) =>
            allowedSignersLine(
              p,
              w.keys[p]!.publicLine,
              p === "bob" ? `valid-before="${retired}"` : undefined,
            ),
          )
          .join("\n")}\n`,
      },
      "retire bob's key",
    );
    // Before retirement: both accept.
    expect((await verifyOnFreshClone(w)).report.ok).toBe(true);
    expect((await stockCheck(w)).ok).toBe(true);
    // After retirement, dated truthfully: both refuse.
    const late = skipRecord({ stage: "lint", actor: "bob", time: iso(Date.now()) }, await tail(w));
    const pushed = await pushSigned(w, late, "bob");
    const v = await verifyOnFreshClone(w);
    expect(v.report.problems.map((p) => p.commit)).toEqual([pushed.commit]);
    expect(v.report.problems[0]!.problem).toMatch(/not in allowed_signers at/);
    const stock = await stockCheck(w);
    expect(stock.ok).toBe(false);
    expect(stock.stdout).toMatch(/BAD .*signature does not verify for bob/);
    expect((await guardOnFreshClone(w, "lint")).decision).toBe("run");
  });

  it("13. 500 junk nominations cost guard at most a few record reads, and the next honest record clears them", async () => {
    const w = await world();
    const now = Date.now();
    const junk = Array.from({ length: 500 }, (_, i) => {
      const id = idAt(now + 60_000 - i);
      return {
        id,
        type: "skip" as const,
        op: "skip" as const,
        target: { stage: "lint", ref: "main", sha: null },
        mechanism: "guard",
        expiresAt: iso(now + hour),
        record: pathOf(id, now),
        before: null,
        after: { waived: true },
        actor: "alice",
        time: iso(now),
      };
    });
    const lines = junk.map(
      (e) =>
        `Optout-Active: ${JSON.stringify({ id: e.id, op: e.op, target: e.target, expiresAt: e.expiresAt, record: e.record })}\n`,
    );
    await pushCrafted(w, {
      index: { v: 1, seq: 500, active: junk, pending: [], inflight: [] },
      message: `optout: refresh index\n\n${lines.join("")}Optout-Index: ${junk.length}\n`,
    });
    const g = await guardOnFreshClone(w, "lint");
    expect([g.code, g.decision]).toEqual([1, "run"]);
    expect(g.json.ignored!.length).toBeLessThanOrEqual(3);
    // Baseline: an honest skip after the flood nominates only what is in force, and is honoured.
    const skip = await honest(w, "alice", ["skip", "lint", "--reason", reason]);
    const g2 = await guardOnFreshClone(w, "lint");
    expect([g2.decision, g2.json.override]).toEqual(["skip", skip.id]);
    expect((await indexAt(w.remote)).active.map((e) => e.id)).toEqual([skip.id]);
  });

  it("14. a branch whose draft points guard at a stale copy of the audit branch gets no waiver back", async () => {
    const w = await world();
    const skip = await honest(w, "alice", [
      "skip",
      "lint",
      "--reason",
      reason,
      "--ref",
      "release",
      "--allow-missing-ref",
    ]);
    const waived = await git(w.remote, "rev-parse", "optout/audit");
    const before = await guardOnFreshClone(w, "lint", { args: ["--ref", "release"] });
    expect([before.decision, before.json.override]).toEqual(["skip", skip.id]); // baseline
    await honest(w, "bob", ["revert", skip.id, "--reason", reason]);
    // A pusher without a key: the old tip as a new branch, and a branch whose draft reads it.
    const mine = await w.clone("pusher");
    await git(mine, "push", "-q", "origin", `${waived}:refs/heads/optout/stale`);
    await git(mine, "checkout", "-q", "-b", "release");
    const draft = insiderPolicy({ audit: { branch: "optout/stale" } });
    await writeFile(join(mine, ".optoutrc.json"), `${JSON.stringify(draft, null, 2)}\n`);
    await git(mine, "-c", "user.name=P", "-c", "user.email=p@example.com", "commit", "-qam", "ci tweak");
    await git(mine, "push", "-q", "origin", "release");
    const ci = join(w.dir, "ci-release");
    await exec("git", ["clone", "-q", "--branch", "release", w.remote, ci]);
    const r = await w.run("ci", ["guard", "lint", "--json"], { cwd: ci });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      decision: "run",
      why: "the working copy's policy reads the audit branch optout/stale, the default branch's policy says optout/audit",
    });
    // With the default branch's draft, the same checkout answers from the real audit branch.
    await git(ci, "checkout", "-q", "origin/main", "--", ".optoutrc.json");
    const honestDraft = await w.run("ci", ["guard", "lint", "--json"], { cwd: ci });
    expect(JSON.parse(honestDraft.stdout)).toMatchObject({ decision: "run", why: "no override" });
  });
  it("15. a revert deleted from the tip's tree (keyless, or with a record chained onto the skip) brings nothing back", async () => {
    const w = await world();
    const skip = await honest(w, "alice", ["skip", "lint", "--reason", reason]);
    const revert = await honest(w, "bob", ["revert", skip.id, "--reason", reason]);
    const revertPath = pathOf(revert.record.id, Date.parse(revert.record.time));
    const entry = { ...entryFor(skip.record), record: pathOf(skip.record.id, Date.parse(skip.record.time)) };
    // Keyless: the revert's files removed from the tree, the skip nominated again.
    await pushCrafted(w, {
      files: { [revertPath]: null, [`${revertPath}.sig`]: null },
      index: { v: 1, seq: 2, active: [entry], pending: [], inflight: [] },
      message: messageFor(skip.record, [entry]).replace(/^optout: .*/, "optout: tidy up"),
    });
    for (const shallow of [false, true]) {
      const g = await guardOnFreshClone(w, "lint", { shallow });
      expect([shallow, g.code, g.decision, whyOf(g, skip.id)]).toEqual([
        shallow,
        1,
        "run",
        `ended by ${revert.id}`,
      ]);
      expect(g.json.ignored?.find((i) => i.id.startsWith("commit "))?.why).toMatch(
        new RegExp(`^removed or changed ${revertPath}`),
      );
    }
    // mallory, with her key, then chains a record of hers onto the skip, as if the revert never was.
    const skipLink = {
      commit: "",
      record: skip.record,
      path: entry.record,
      hash: sha256(canonicalize(skip.record)),
    };
    const note = record(
      {
        type: "deny",
        op: "skip",
        actor: "mallory",
        time: iso(Date.now()),
        target: { stage: "e2e", ref: "main", sha: null },
        outcome: "denied",
      },
      skipLink,
    );
    await pushSigned(w, note, "mallory", { alsoNominate: [entry] });
    // The history still holds the revert, which came first: mallory's record chains past it.
    for (const shallow of [false, true]) {
      const g = await guardOnFreshClone(w, "lint", { shallow });
      expect([shallow, g.code, g.decision, whyOf(g, skip.id)]).toEqual([
        shallow,
        1,
        "run",
        `ended by ${revert.id}`,
      ]);
    }
    const v = await verifyOnFreshClone(w);
    expect(v.report.ok).toBe(false);
    expect(v.report.problems.map((p) => p.id)).toContain(note.id);
    // Baseline: before any of it, the skip was honoured in both kinds of checkout (test 0 and
    // guard-ci-checkout.test.ts); here, an honest skip after the attack still is.
    const again = await honest(w, "alice", ["skip", "lint", "--reason", reason]);
    for (const shallow of [false, true]) {
      const g = await guardOnFreshClone(w, "lint", { shallow });
      expect([shallow, g.decision, g.json.override]).toEqual([shallow, "skip", again.id]);
    }
  });
});
