/**
 * What `optout guard` costs a pipeline job, in a checkout made the way actions/checkout makes one
 * (git init, a depth-1 fetch of the commit over smart HTTP, no refs/remotes/origin/HEAD), with the
 * environment GitHub gives a step: the network round trips (git connections, each beginning with
 * `GET …/info/refs`) the remote answers, and the git processes guard starts (a `git` first on
 * PATH that logs its arguments and hands over to the real one). bench/pipeline-job.mjs times the
 * same checkout; this test holds the counts.
 */
import { execFile } from "node:child_process";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SmartHttp, serveGit } from "../helpers/smart-http.js";
import { git, makeWorld, type RunResult, type World } from "../helpers/world.js";

const exec = promisify(execFile);

let w: World;
let server: SmartHttp;
let wrapperDir: string;
let gitLog: string;

beforeAll(async () => {
  w = await makeWorld();
  await git(w.remote, "config", "uploadpack.allowFilter", "true");
  server = await serveGit({ repos: { "acme/shop.git": w.remote } });
  const { stdout } = await exec("sh", ["-c", "command -v git"]);
  wrapperDir = join(w.dir, "git-wrapper");
  gitLog = join(w.dir, "git-processes.log");
  await mkdir(wrapperDir);
  await writeFile(
    join(wrapperDir, "git"),
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${gitLog}'\nexec '${stdout.trim()}' "$@"\n`,
  );
  await chmod(join(wrapperDir, "git"), 0o755);
});
afterAll(async () => {
  await server?.close();
  await w?.cleanup();
});

/** A job's checkout as actions/checkout makes it, and guard run there as a step runs it. */
async function guardInJob(
  name: string,
  stage: string,
): Promise<{ r: RunResult; connections: number; gitProcesses: string[] }> {
  const job = join(w.dir, name);
  const sha = await git(w.remote, "rev-parse", "refs/heads/main");
  await exec("git", ["init", "-q", job]);
  await git(job, "remote", "add", "origin", server.repoUrl("acme/shop.git"));
  await git(
    job,
    "-c",
    "protocol.version=2",
    "fetch",
    "-q",
    "--no-tags",
    "--depth=1",
    "origin",
    `+${sha}:refs/remotes/origin/main`,
  );
  await git(job, "checkout", "-q", "--force", "-B", "main", "refs/remotes/origin/main");
  const event = join(w.dir, `${name}-event.json`);
  await writeFile(
    event,
    JSON.stringify({
      ref: "refs/heads/main",
      repository: { full_name: "acme/shop", default_branch: "main" },
    }),
  );
  const refsBefore = await git(job, "for-each-ref", "--format=%(refname) %(objectname)");
  server.reset();
  await writeFile(gitLog, "");
  const r = await w.run("bob", ["guard", stage], {
    cwd: job,
    env: {
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_EVENT_NAME: "push",
      GITHUB_EVENT_PATH: event,
      GITHUB_REF: "refs/heads/main",
      GITHUB_REF_NAME: "main",
      GITHUB_REPOSITORY: "acme/shop",
      GITHUB_SHA: sha,
      PATH: `${wrapperDir}:${process.env.PATH}`,
    },
  });
  // What guard leaves in the checkout: the remote marked a promisor (as git marks it on a filtered
  // fetch), no filter recorded (the job's own fetches stay whole), the job's refs untouched, and
  // git's housekeeping still works there.
  expect(await git(job, "config", "--get-regexp", "^remote\\.origin\\.")).toBe(
    `remote.origin.url ${server.repoUrl("acme/shop.git")}\nremote.origin.fetch +refs/heads/*:refs/remotes/origin/*\nremote.origin.promisor true`,
  );
  const refsAfter = await git(job, "for-each-ref", "--format=%(refname) %(objectname)");
  expect(refsAfter.split("\n").filter((l) => !l.startsWith("refs/optout/guard/"))).toEqual(
    refsBefore.split("\n"),
  );
  const gitProcesses = (await readFile(gitLog, "utf8")).split("\n").filter(Boolean);
  const connections = server.requests.filter(
    (q) => q.method === "GET" && q.path.endsWith("/info/refs"),
  ).length;
  await git(job, "gc", "--quiet");
  return { r, connections, gitProcesses };
}

describe("guard in a runner's checkout", () => {
  it("nothing nominated for the stage: one network round trip", async () => {
    // The ledger exists and holds an override, of another stage.
    const other = await w.run("alice", ["skip", "e2e", "--reason", "e2e cluster down, INC-4412"]);
    expect(other.code, other.stderr).toBe(0);
    const { r, connections, gitProcesses } = await guardInJob("job-run", "lint");
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout.trim()).toBe("run");
    expect(connections).toBe(1);
    // One fetch of both branches; no ls-remote for the default branch (the event payload names it).
    expect(gitProcesses.filter((p) => /\bfetch\b/.test(p))).toHaveLength(1);
    expect(gitProcesses.some((p) => p.startsWith("ls-remote"))).toBe(false);
    // Two git processes in all: the fetch and one `cat-file --batch` (the repository is found
    // from its files, and nothing is written to the checkout's config).
    expect(gitProcesses).toHaveLength(2);
    expect(gitProcesses[0]).toMatch(/\bfetch\b/);
    expect(gitProcesses[1]).toBe("cat-file --batch");
  });

  it("a signed skip of the stage nominated: three, for the recent commits and for what verifying it takes", async () => {
    const skip = await w.run("alice", ["skip", "lint", "--reason", "linter crashes on node 22, INC-4411"]);
    expect(skip.code, skip.stderr).toBe(0);
    const { r, connections, gitProcesses } = await guardInJob("job-skip", "lint");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("skip");
    // The tips; the audit branch's recent commits (which record each commit added: a later one
    // may have removed a record from the tree); the records and the default branch's policy.
    expect(connections).toBe(3);
    expect(gitProcesses.filter((p) => p.startsWith("cat-file"))).toEqual(["cat-file --batch"]);
    // Two more than without history: the deepening fetch and the `git log` that walks it.
    expect(gitProcesses.filter((p) => p.startsWith("log "))).toHaveLength(1);
    expect(gitProcesses.length).toBeLessThanOrEqual(5);
  });
});
