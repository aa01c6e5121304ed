/**
 * Post-incident reviews end to end on plain git: signed review records checked by stock
 * ssh-keygen, self-review and review.allow refused and recorded, the review backlog in
 * `log --unreviewed` and `status`, and `guard --strict` holding a stage until its skips are reviewed.
 */
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sshKeygenVerify } from "../helpers/keys.js";
import { forcePush, readSteps, replay } from "../helpers/tamper.js";
import { basePolicy, git, makeWorld, type World } from "../helpers/world.js";

const reason = "linter crashes on node 22, INC-4411";
const note = "the linter bug was real and fixed upstream the next day";

async function skipLint(w: World, person: string, extra: string[] = []): Promise<string> {
  const r = await w.run(person, ["skip", "lint", "--reason", reason, "--json", ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).id as string;
}

async function unreviewedIds(w: World): Promise<string[]> {
  const r = await w.run("alice", ["log", "--unreviewed", "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout).records as { id: string }[]).map((x) => x.id);
}

/** The record file and its signature from the remote audit branch, checked by ssh-keygen alone. */
async function sshKeygenAccepts(w: World, id: string, signer: string): Promise<number> {
  await git(w.work, "fetch", "-q", "origin", "optout/audit");
  const path = (await git(w.work, "ls-tree", "-r", "--name-only", "FETCH_HEAD", "records"))
    .split("\n")
    .find((p) => p.endsWith(`${id}.json`))!;
  const dir = join(w.dir, `check-${id}`);
  await writeFile(`${dir}.json`, await git(w.work, "show", `FETCH_HEAD:${path}`));
  await writeFile(`${dir}.sig`, `${await git(w.work, "show", `FETCH_HEAD:${path}.sig`)}\n`);
  await writeFile(`${dir}.signers`, await git(w.work, "show", "origin/main:.optout/allowed_signers"));
  const r = await sshKeygenVerify({
    allowedSigners: `${dir}.signers`,
    principal: signer,
    namespace: "optout-audit",
    sigPath: `${dir}.sig`,
    messagePath: `${dir}.json`,
  });
  return r.code;
}

describe("optout review", () => {
  let w: World;
  beforeAll(async () => {
    // A review section, even empty: reviews are a practice here, so status reminds of them.
    w = await makeWorld({ people: ["alice", "bob", "carol"], policy: basePolicy({ review: {} }) });
  });
  afterAll(() => w.cleanup());

  it("records another person's review, signed; the override leaves the backlog", async () => {
    const id = await skipLint(w, "alice");
    expect(await unreviewedIds(w)).toEqual([id]);
    const before = await w.run("bob", ["status"]);
    expect(before.stdout).toMatch(/^1 override awaits review: optout log --unreviewed$/m);
    expect(JSON.parse((await w.run("bob", ["status", "--json"])).stdout).reviews).toEqual({
      awaiting: 1,
      required: false,
      overdue: [],
    });

    const r = await w.run("bob", ["review", id, "--verdict", "justified", "--note", note, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect((await w.run("bob", ["log", "--limit", "1"])).stdout).toMatch(new RegExp(`review +of skip ${id}`));
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ type: "review", status: "applied", override: id, verdict: "justified" });
    expect(out.record).toMatchObject({
      type: "review",
      op: "skip",
      actor: { login: "bob" },
      signer: "bob",
      target: { override: id },
      reason: note,
      outcome: "applied",
      verdict: "justified",
      links: {},
    });
    expect(await sshKeygenAccepts(w, out.record.id, "bob")).toBe(0);
    const verify = await w.run("carol", ["log", "--verify"]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(await unreviewedIds(w)).toEqual([]);
    const after = await w.run("bob", ["status"]);
    expect(after.stdout).not.toMatch(/await/);

    // A second reviewer adds a review (by a prefix of the id); the first may not review twice.
    const second = await w.run("carol", [
      "review",
      id.slice(0, 10),
      "--verdict",
      "needs-follow-up",
      "--note",
      "pin the linter version",
    ]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/reviewed skip lint@main .*: needs-follow-up/);
    expect(second.stdout).toMatch(/earlier {2}bob: justified/);
    const again = await w.run("bob", ["review", id, "--verdict", "unjustified", "--note", "changed my mind"]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/bob already reviewed/);
  });

  it("refuses self-review (exit 3) and records the attempt", async () => {
    const id = await skipLint(w, "alice");
    const r = await w.run("alice", ["review", id, "--verdict", "justified", "--note", "all good, trust me"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/alice may not review .*: they made, asked for or approved it/);
    const [newest] = JSON.parse((await w.run("bob", ["log", "--json", "--limit", "1"])).stdout).records;
    expect(newest).toMatchObject({
      type: "deny",
      // A refused review, not a refused skip.
      op: null,
      actor: { login: "alice" },
      target: { override: id },
      reason: "all good, trust me",
      outcome: "denied",
    });
    expect(await unreviewedIds(w)).toContain(id);
    const log = (await w.run("bob", ["log", "--limit", "1"])).stdout;
    expect(log).toMatch(new RegExp(`deny +review of ${id}`));
    expect(log).not.toMatch(/undefined/);
  });

  it("refuses malformed reviews as usage errors, writing nothing", async () => {
    const id = await skipLint(w, "alice");
    const seq = async () =>
      JSON.parse((await w.run("bob", ["log", "--json", "--limit", "1"])).stdout).records[0].seq;
    const first = await seq();
    const cases = [
      ["review", id, "--verdict", "great", "--note", note],
      ["review", id, "--verdict", "justified"],
      ["review", "01NOPE", "--verdict", "justified", "--note", note],
      ["review", "01", "--verdict", "justified", "--note", note],
    ];
    for (const args of cases) {
      const r = await w.run("bob", args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
    }
    expect(await seq()).toBe(first);
  });
});

describe("review policy", () => {
  it("without a review section, status never reminds anyone of reviews", async () => {
    const w = await makeWorld();
    try {
      expect((await w.run("alice", ["skip", "lint", "--reason", "linter crashes on node 22"])).code).toBe(0);
      const status = await w.run("bob", ["status"]);
      expect(status.code).toBe(0);
      expect(status.stdout).not.toMatch(/await(s)? review/);
    } finally {
      await w.cleanup();
    }
  });

  it("review.allow says who may review; others are refused and recorded", async () => {
    const w = await makeWorld({
      people: ["alice", "bob", "carol"],
      policy: basePolicy({ review: { allow: ["user:carol"] } }),
    });
    try {
      const id = await skipLint(w, "alice");
      const bob = await w.run("bob", ["review", id, "--verdict", "justified", "--note", note]);
      expect(bob.code).toBe(3);
      expect(bob.stderr).toMatch(/bob may not review overrides/);
      expect(bob.stderr).toMatch(/review\.allow lists: user:carol/);
      const [deny] = JSON.parse((await w.run("bob", ["log", "--json", "--limit", "1"])).stdout).records;
      expect(deny).toMatchObject({
        type: "deny",
        op: null,
        actor: { login: "bob" },
        target: { override: id },
      });
      const carol = await w.run("carol", ["review", id, "--verdict", "justified", "--note", note]);
      expect(carol.code, carol.stderr).toBe(0);
    } finally {
      await w.cleanup();
    }
  });

  it("with review.required, guard --strict runs a stage whose skip is overdue, until it is reviewed", async () => {
    const w = await makeWorld({ policy: basePolicy({ review: { required: true, within: "2s" } }) });
    try {
      const id = await skipLint(w, "alice");
      // A minute later by the injected clock: the review was due after 2 s.
      const later = { env: { OPTOUT_NOW: new Date(Date.now() + 60_000).toISOString() } };
      // Without --strict the waiver holds.
      const lenient = await w.run("bob", ["guard", "lint"], later);
      expect([lenient.code, lenient.stdout]).toEqual([0, "skip\n"]);

      const strict = await w.run("bob", ["guard", "lint", "--strict"], later);
      expect([strict.code, strict.stdout]).toEqual([1, "run\n"]);
      expect(strict.stderr).toMatch(
        new RegExp(`lint runs \\(--strict\\): 1 skip\\(s\\) of it overdue for review: ${id}`),
      );
      const json = JSON.parse((await w.run("bob", ["guard", "lint", "--strict", "--json"], later)).stdout);
      expect(json).toMatchObject({ decision: "run", overdueReviews: [{ id }] });

      const status = await w.run("bob", ["status"], later);
      expect(status.stdout).toMatch(/^1 override awaits review, 1 overdue: optout log --unreviewed$/m);
      const listed = await w.run("bob", ["log", "--unreviewed"], later);
      expect(listed.stdout).toMatch(/review overdue since/);

      const review = await w.run("bob", ["review", id, "--verdict", "justified", "--note", note], later);
      expect(review.code, review.stderr).toBe(0);
      const cleared = await w.run("bob", ["guard", "lint", "--strict"], later);
      expect([cleared.code, cleared.stdout], cleared.stderr).toEqual([0, "skip\n"]);
      expect(JSON.parse((await w.run("bob", ["status", "--json"], later)).stdout).reviews).toEqual({
        awaiting: 0,
        required: true,
        overdue: [],
      });
    } finally {
      await w.cleanup();
    }
  });

  it("status counts the backlog from the records that count, also after a rewrite", async () => {
    const w = await makeWorld({
      people: ["alice", "bob", "carol"],
      policy: basePolicy({ review: { within: "7d" } }),
    });
    try {
      const awaiting = async () => {
        const r = await w.run("carol", ["status", "--json"]);
        expect(r.code, r.stderr).toBe(0);
        return JSON.parse(r.stdout).reviews.awaiting as number;
      };
      const first = await skipLint(w, "alice");
      expect(await awaiting()).toBe(1);
      await skipLint(w, "bob", ["--ref", "dev", "--allow-missing-ref"]);
      expect(await awaiting()).toBe(2);
      const review = await w.run("carol", ["review", first, "--verdict", "justified", "--note", note]);
      expect(review.code, review.stderr).toBe(0);
      expect(await awaiting()).toBe(1);
      // Someone rewrites the branch without the review: the count follows the branch as it is now
      // (log --verify reports the rewrite).
      const ref = "refs/remotes/origin/optout/audit";
      const steps = await readSteps(w.work, ref);
      await forcePush(w.work, await replay(w.work, steps.slice(0, -1)));
      expect(await awaiting()).toBe(2);
      // And a local cache that does not parse is ignored, not trusted.
      const cache = join(w.work, ".git", "optout", "ledger-cache");
      for (const name of await readdir(cache)) await writeFile(join(cache, name), "{ not json");
      expect(await awaiting()).toBe(2);
    } finally {
      await w.cleanup();
    }
  });
});
