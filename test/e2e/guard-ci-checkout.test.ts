/**
 * guard in a pipeline's checkout: shallow (depth 1, as actions/checkout and GitLab's GIT_DEPTH
 * make it), never having seen the audit branch. guard fetches the branch's tip without blobs and
 * then only the blobs it reads, in one request; the answers are the same as in a full clone, and
 * the checkout is left as the job's own git commands expect it.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forcePush, readSteps, replay } from "../helpers/tamper.js";
import { basePolicy, git, makeWorld, type World } from "../helpers/world.js";

const exec = promisify(execFile);
const auditRef = "refs/remotes/origin/optout/audit";

/** A fresh depth-1 checkout of main, as a pipeline job starts with. */
async function ciCheckout(w: World, name: string, cloneArgs: string[] = []): Promise<string> {
  const path = join(w.dir, name);
  await exec("git", ["clone", "-q", "--depth=1", ...cloneArgs, `file://${w.remote}`, path]);
  return path;
}

/** Blobs the checkout holds (loose or packed); listing what is here never fetches anything. */
async function blobsHere(cwd: string): Promise<number> {
  const { stdout } = await exec("git", ["cat-file", "--batch-all-objects", "--batch-check=%(objecttype)"], {
    cwd,
    maxBuffer: 64 << 20,
  });
  return stdout.split("\n").filter((t) => t === "blob").length;
}

async function config(cwd: string, key: string): Promise<string | undefined> {
  try {
    return (await exec("git", ["config", "--get", key], { cwd })).stdout.trim();
  } catch {
    return undefined;
  }
}

describe("guard in a shallow CI checkout", () => {
  let w: World;
  let lintSkip: string;
  let e2eSkip: string;
  let records: number;
  beforeAll(async () => {
    w = await makeWorld();
    // GitHub and GitLab serve filtered fetches; a bare repository does when told to.
    await git(w.remote, "config", "uploadpack.allowFilter", "true");
    const skip = async (stage: string, ref: string, env: Record<string, string> = {}) => {
      const r = await w.run(
        "alice",
        ["skip", stage, "--ref", ref, "--allow-missing-ref", "--reason", "runner image is broken", "--json"],
        { env },
      );
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).id as string;
    };
    // Three days ago: older than any window guard reads for today's skips.
    const before = { OPTOUT_NOW: new Date(Date.now() - 3 * 86_400_000).toISOString() };
    for (const ref of ["dev", "release/1.x", "release/2.x"]) await skip("lint", ref, before);
    lintSkip = await skip("lint", "main");
    e2eSkip = await skip("e2e", "main");
    expect((await w.run("alice", ["revert", e2eSkip])).code).toBe(0);
    records = (await readSteps(w.work, auditRef)).length;
  });
  afterAll(() => w.cleanup());

  it("answers as a full clone does, reading only the blobs it needs", async () => {
    const ci = await ciCheckout(w, "ci-1");
    const env = { CI_COMMIT_REF_NAME: "main" };
    const lint = await w.run("bob", ["guard", "lint", "--json"], { cwd: ci, env });
    expect(lint.code, lint.stderr).toBe(0);
    expect(JSON.parse(lint.stdout)).toMatchObject({ stage: "lint", decision: "skip", override: lintSkip });
    const e2e = await w.run("bob", ["guard", "e2e", "--json"], { cwd: ci, env });
    expect(e2e.code, e2e.stderr).toBe(1);
    expect(JSON.parse(e2e.stdout)).toMatchObject({ decision: "run", ignored: [] });
    expect(
      (await w.run("bob", ["guard", "lint"], { cwd: ci, env: { CI_COMMIT_REF_NAME: "feature" } })).code,
    ).toBe(1);

    expect(existsSync(join(ci, ".git", "shallow"))).toBe(true);
    // main's README, policy and allowed_signers, and the records guard read (the lint skip, its
    // signature, the few written since it, and those back to the newest before it, for its place
    // in the chain: here the three old skips share one millisecond, so up to all three): never an
    // index, far fewer blobs than a fetch of the branch brings.
    const here = await blobsHere(ci);
    expect(here).toBeLessThanOrEqual(2 * records + 3);
    const full = await ciCheckout(w, "ci-full");
    await exec("git", ["fetch", "-q", "--depth=1", "origin", `+refs/heads/optout/audit:${auditRef}`], {
      cwd: full,
    });
    expect(await blobsHere(full)).toBeGreaterThan(here + 2 * records - 14);
  });

  it("leaves the job's refs alone, and what it left out is fetched when the job reads it", async () => {
    const ci = await ciCheckout(w, "ci-2");
    const mainBefore = await git(ci, "rev-parse", "refs/remotes/origin/main");
    // main moves on after the job's checkout: guard fetches the new tip (for allowed_signers).
    await w.pushMain({ CHANGELOG: "1.0.1: faster guard\n" }, "changelog");
    expect(
      (await w.run("bob", ["guard", "lint"], { cwd: ci, env: { CI_COMMIT_REF_NAME: "main" } })).code,
    ).toBe(0);
    expect(await config(ci, "remote.origin.partialclonefilter")).toBeUndefined();
    expect(await config(ci, "remote.origin.promisor")).toBe("true");
    // guard's blob-less tips are in refs of its own; the job's refs are as the checkout left them.
    expect(await git(ci, "rev-parse", "refs/remotes/origin/main")).toBe(mainBefore);
    expect(await git(ci, "for-each-ref", "--format=%(refname)", "refs/remotes")).not.toMatch(/optout/);
    expect(await git(ci, "rev-parse", "refs/optout/guard/default")).not.toBe(mainBefore);
    // The job does what jobs do: fetch main and read it. guard already brought main's new tip
    // without its blobs, so git fetches those on demand (and records the filter again, as it
    // does for every on-demand fetch; docs/pipelines.md says so).
    await git(ci, "fetch", "-q", "origin", "+main:refs/remotes/origin/main");
    expect(await git(ci, "show", "origin/main:CHANGELOG")).toBe("1.0.1: faster guard");
    expect(await git(ci, "diff", "--stat", mainBefore, "origin/main")).toMatch(/CHANGELOG/);
    // A record guard never read is still there for the asking (git fetches it on demand).
    const first = (await readSteps(w.work, auditRef))[0]!;
    const path = [...first.files.keys()].find((p) => p.endsWith(".json") && p.startsWith("records/"))!;
    expect(JSON.parse(await git(ci, "show", `refs/optout/guard/audit:${path}`)).seq).toBe(1);
  });

  it("after guard, commands that read every record fetch them in one request, not one each", async () => {
    const ci = await ciCheckout(w, "ci-6");
    // Count upload-pack's pack-objects runs: one per fetch request that reaches the remote.
    const hook = join(w.dir, "counting-pack-objects.sh");
    const count = join(w.dir, "pack-objects-count-6");
    await writeFile(hook, `#!/bin/sh\necho x >> "${count}"\nexec "$@"\n`, { mode: 0o755 });
    const global = join(w.dir, "gitconfig-counting");
    await writeFile(global, `[uploadpack]\n\tpackObjectsHook = ${hook}\n`);
    const env = { CI_COMMIT_REF_NAME: "main", GIT_CONFIG_GLOBAL: global };
    const requests = async () => (await readFile(count, "utf8").catch(() => "")).split("\n").length - 1;
    expect((await w.run("bob", ["guard", "lint"], { cwd: ci, env })).code).toBe(0);
    const afterGuard = await requests();
    // The tips (with the commit's nominations); the audit branch's recent commits (which record
    // each commit added: a later commit may have removed one from the tree); then the listed
    // skip's window of records with the policy and allowed_signers of main.
    expect(afterGuard).toBe(3);
    const verify = await w.run("bob", ["log", "--verify"], { cwd: ci, env });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(new RegExp(`^verified ${records} record\\(s\\)`));
    // The history, every record it left out in one request, and main for allowed_signers;
    // reading them fetches nothing more (one request per blob would be ~2 per record).
    // (and git's own connectivity check after deepening may ask for one object): a handful.
    expect((await requests()) - afterGuard).toBeLessThanOrEqual(4);
    const status = await w.run("bob", ["status", "--json"], { cwd: ci, env });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).active.map((e: { id: string }) => e.id)).toContain(lintSkip);
  });

  it("keeps a filter the checkout was made with", async () => {
    const ci = await ciCheckout(w, "ci-3", ["--filter=blob:none"]);
    expect(await config(ci, "remote.origin.partialclonefilter")).toBe("blob:none");
    expect(
      (await w.run("bob", ["guard", "lint"], { cwd: ci, env: { CI_COMMIT_REF_NAME: "main" } })).code,
    ).toBe(0);
    expect(await config(ci, "remote.origin.partialclonefilter")).toBe("blob:none");
  });

  it("works against a remote that ignores filters (it sends everything, as before)", async () => {
    await git(w.remote, "config", "uploadpack.allowFilter", "false");
    try {
      const ci = await ciCheckout(w, "ci-4");
      const env = { CI_COMMIT_REF_NAME: "main" };
      expect((await w.run("bob", ["guard", "lint"], { cwd: ci, env })).code).toBe(0);
      expect((await w.run("bob", ["guard", "e2e"], { cwd: ci, env })).code).toBe(1);
      expect(await blobsHere(ci)).toBeGreaterThanOrEqual(2 * records);
    } finally {
      await git(w.remote, "config", "uploadpack.allowFilter", "true");
    }
  });

  it("exits 2 (fail closed) when the remote stops answering after the first fetch", async () => {
    const ci = await ciCheckout(w, "ci-5");
    // upload-pack runs pack-objects through this hook (read from the global config only): the
    // first request (the tips) is served, the next one (the blobs guard reads) fails.
    const hook = join(w.dir, "flaky-pack-objects.sh");
    const count = join(w.dir, "pack-objects-calls");
    await writeFile(
      hook,
      `#!/bin/sh\necho x >> "${count}"\nif [ "$(wc -l < "${count}")" -gt 1 ]; then echo "remote hung up" >&2; exit 1; fi\nexec "$@"\n`,
      { mode: 0o755 },
    );
    const global = join(w.dir, "gitconfig-flaky");
    await writeFile(global, `[uploadpack]\n\tpackObjectsHook = ${hook}\n`);
    const g = await w.run("bob", ["guard", "lint"], {
      cwd: ci,
      env: { CI_COMMIT_REF_NAME: "main", GIT_CONFIG_GLOBAL: global },
    });
    expect(await readFile(count, "utf8")).toMatch(/^x\nx\n/);
    expect(g.code).toBe(2);
    expect(g.stdout).toBe("");
    expect(g.stderr).toMatch(/cannot fetch audit records from origin/);
    expect(g.stderr).toMatch(/fail closed and run it/);
    expect(g.stderr).not.toMatch(/\n\s+at /);
    // Nothing of ours stays behind in the checkout's config.
    expect(await config(ci, "remote.origin.partialclonefilter")).toBeUndefined();
  });

  it("--strict reads the whole history, not just the depth-1 tip, to find overdue reviews", async () => {
    const v = await makeWorld({ policy: basePolicy({ review: { required: true, within: "1h" } }) });
    try {
      await git(v.remote, "config", "uploadpack.allowFilter", "true");
      const skip = async (ref: string, env: Record<string, string> = {}) => {
        const r = await v.run(
          "alice",
          [
            "skip",
            "lint",
            "--ref",
            ref,
            "--allow-missing-ref",
            "--reason",
            "linter is broken today",
            "--json",
          ],
          { env },
        );
        expect(r.code, r.stderr).toBe(0);
        return JSON.parse(r.stdout).id as string;
      };
      // Two hours ago (the clock, not a wait): its review is overdue by now.
      const old = await skip("dev", { OPTOUT_NOW: new Date(Date.now() - 2 * 3_600_000).toISOString() });
      // The waiver main relies on is reviewed at once: only the older skip of lint is overdue,
      // and the newest commit (all a depth-1 fetch holds) is the review, not that skip.
      const fresh = await skip("main");
      const review = await v.run("bob", [
        "review",
        fresh,
        "--verdict",
        "justified",
        "--note",
        "runner image fixed in #12",
      ]);
      expect(review.code, review.stderr).toBe(0);
      const ci = await ciCheckout(v, "ci");
      const env = { CI_COMMIT_REF_NAME: "main" };
      expect((await v.run("bob", ["guard", "lint"], { cwd: ci, env })).code).toBe(0);
      const strict = await v.run("bob", ["guard", "lint", "--strict", "--json"], { cwd: ci, env });
      expect(strict.code, strict.stderr).toBe(1);
      expect(JSON.parse(strict.stdout)).toMatchObject({ decision: "run", overdueReviews: [{ id: old }] });
      expect(await config(ci, "remote.origin.partialclonefilter")).toBeUndefined();
      // Only the audit branch was deepened: the job's checkout is as shallow as it was, and its
      // refs are untouched (git reads depth 2147483647 as --unshallow, which fetches all of main).
      expect(existsSync(join(ci, ".git", "shallow"))).toBe(true);
      expect(await git(ci, "rev-list", "--count", "HEAD")).toBe("1");
      expect(await git(ci, "for-each-ref", "--format=%(refname)", "refs/remotes")).not.toMatch(/optout/);
    } finally {
      await v.cleanup();
    }
  });

  it("a stale index that still lists a reverted skip gives run here too", async () => {
    const v = await makeWorld();
    try {
      await git(v.remote, "config", "uploadpack.allowFilter", "true");
      const skip = JSON.parse(
        (await v.run("alice", ["skip", "lint", "--reason", "linter is broken today", "--json"])).stdout,
      );
      expect((await v.run("bob", ["revert", skip.id])).code).toBe(0);
      const s = await readSteps(v.work, auditRef);
      s.push({
        message: "refresh index",
        files: new Map([["state/active.json", s[0]!.files.get("state/active.json")!]]),
      });
      await forcePush(v.work, await replay(v.work, s));
      const ci = await ciCheckout(v, "ci");
      const g = await v.run("bob", ["guard", "lint", "--json"], {
        cwd: ci,
        env: { CI_COMMIT_REF_NAME: "main" },
      });
      expect(g.code, g.stderr).toBe(1);
      expect(JSON.parse(g.stdout).ignored[0].why).toMatch(/^ended by /);
    } finally {
      await v.cleanup();
    }
  });
});
