/**
 * The GitLab pipeline files under a real runner: gitlab-ci-local (the shell executor, each job in
 * its own copy of the checkout) runs the jobs of the .gitlab-ci.yml `optout init` prints, with
 * optout's components included from optout's own repository, against repositories served over
 * smart HTTP as GitLab serves them. The checkout is made the way GitLab Runner makes one: a
 * shallow fetch of the branch, no refs/remotes/origin/HEAD.
 *
 * Needs rsync (gitlab-ci-local copies each job's checkout with it); .ci/run installs it.
 * OPTOUT_TEST_RUNNER_LOG=1 prints every gitlab-ci-local run's output.
 */
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StageAnswer } from "../../src/scaffold/policy.js";
import { gitlabCi, gitlabRollout } from "../../src/scaffold/templates/gitlab.js";
import { pipelineFiles } from "../../src/scaffold/templates/index.js";
import { type SmartHttp, serveGit } from "../helpers/smart-http.js";
import { cliPath, git, makeWorld, type RunResult, repoRoot, type World } from "../helpers/world.js";

const exec = promisify(execFile);
const { version } = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { version: string };
const gitlabCiLocal = join(repoRoot, "node_modules", "gitlab-ci-local", "dist", "index.js");
const TOKEN = "glpat-expire-bot-token";

let w: World;
let server: SmartHttp;
let bin: string;

/** The stage's work in the test project: it leaves a line in the job log. */
const packageJson = `${JSON.stringify({ name: "shop", private: true, scripts: { lint: "echo LINT-WORK-RAN" } }, null, 2)}\n`;

/** The .gitlab-ci.yml `optout init` prints for a guarded lint stage (plain git provider). */
const ciYml = () => gitlabCi({ provider: "git", stages: [{ name: "lint", mechanism: "guard" }], version });

/** optout's own repository as GitLab would host it: the components, tagged with the release. */
async function componentProject(dir: string): Promise<string> {
  const bare = join(dir, "optout.git");
  const seed = join(dir, "optout-seed");
  await exec("git", ["init", "-q", "--bare", "-b", "main", bare]);
  await git(bare, "config", "uploadpack.allowFilter", "true");
  await exec("git", ["init", "-q", "-b", "main", seed]);
  await mkdir(join(seed, "templates"));
  for (const f of ["guard.yml", "expire.yml"]) {
    await writeFile(join(seed, "templates", f), await readFile(join(repoRoot, "templates", f), "utf8"));
  }
  await git(seed, "add", "-A");
  await git(
    seed,
    "-c",
    "user.name=optout",
    "-c",
    "user.email=optout@example.com",
    "commit",
    "-q",
    "-m",
    "components",
  );
  await git(seed, "tag", version);
  await git(seed, "push", "-q", bare, "main", version);
  return bare;
}

/** A job's checkout as GitLab Runner makes it: init, a shallow fetch of the branch, checkout. */
async function runnerCheckout(name: string): Promise<string> {
  const dir = join(w.dir, name);
  await exec("git", ["init", "-q", "-b", "main", dir]);
  await git(dir, "remote", "add", "origin", server.repoUrl("acme/shop.git"));
  await git(
    dir,
    "fetch",
    "-q",
    "--depth=20",
    "--no-tags",
    "origin",
    "+refs/heads/main:refs/remotes/origin/main",
  );
  await git(dir, "checkout", "-q", "-B", "main", "origin/main");
  return dir;
}

/** gitlab-ci-local in `cwd`: the given jobs, shell executor, each in an isolated copy. */
function pipeline(cwd: string, jobs: string[], variables: Record<string, string> = {}): Promise<RunResult> {
  const args = [
    gitlabCiLocal,
    "--shell-isolation",
    "--force-shell-executor",
    "--no-color",
    ...Object.entries(variables).flatMap(([k, v]) => ["--variable", `${k}=${v}`]),
    ...jobs,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...w.env("bob"), PATH: `${bin}:${process.env.PATH}`, OPTOUT_SIGNING_KEY: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => {
      if (process.env.OPTOUT_TEST_RUNNER_LOG === "1") console.log(jobs, stdout, stderr);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  w = await makeWorld();
  await w.pushMain({ ".gitlab-ci.yml": ciYml(), "package.json": packageJson }, "CI with optout");
  await git(w.remote, "config", "uploadpack.allowFilter", "true");
  const optout = await componentProject(w.dir);
  server = await serveGit({
    repos: { "acme/shop.git": w.remote, "optout-cli/optout.git": optout },
    pushAuth: { username: "oauth2", password: TOKEN },
  });
  // optout on the job's PATH, as an image with optout installed has it (the template then
  // installs nothing).
  bin = join(w.dir, "bin");
  await mkdir(bin);
  await writeFile(join(bin, "optout"), `#!/bin/sh\nexec "${process.execPath}" "${cliPath}" "$@"\n`);
  await chmod(join(bin, "optout"), 0o755);
});
afterAll(async () => {
  await server?.close();
  await w?.cleanup();
});

/** A job's log lines, its output and errors (gitlab-ci-local prefixes each with the job's name). */
const log = (r: RunResult, job: string) =>
  `${r.stdout}\n${r.stderr}`
    .split("\n")
    .filter((l) => l.startsWith(`${job} `))
    .join("\n");

describe("the guard component under gitlab-ci-local", () => {
  it("no override: guard says run, the job's script runs, the job succeeds", async () => {
    const r = await pipeline(await runnerCheckout("job-run"), ["lint"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(log(r, "lint")).toMatch(/^lint > run$/m);
    expect(log(r, "lint")).toContain("LINT-WORK-RAN");
    expect(r.stdout).toMatch(/PASS\s+lint/);
    // The component came from optout's repository, over HTTP, at the release init pinned.
    expect(r.stderr).toContain(`downloaded optout-cli/optout ${version} templates/guard`);
  });

  it("after optout skip: the job ends successfully without running its script", async () => {
    const skip = await w.run("alice", ["skip", "lint", "--reason", "linter crashes on node 22, INC-4411"]);
    expect(skip.code, skip.stderr).toBe(0);
    const r = await pipeline(await runnerCheckout("job-skip"), ["lint"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(log(r, "lint")).toContain("optout: lint is waived; not running this job's script");
    expect(log(r, "lint")).not.toContain("LINT-WORK-RAN");
    expect(r.stdout).toMatch(/PASS\s+lint/);
  });

  it("each copy of a parallel job guards the job's stage (OPTOUT_GUARD_STAGE)", async () => {
    const dir = await runnerCheckout("job-parallel");
    const yml = await readFile(join(dir, ".gitlab-ci.yml"), "utf8");
    await writeFile(join(dir, ".gitlab-ci.yml"), yml.replace("\nlint:\n", "\nlint:\n  parallel: 2\n"));
    const r = await pipeline(dir, ["lint"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // GitLab names the copies `lint 1/2`, `lint 2/2`; gitlab-ci-local `lint: [1/2]`.
    for (const copy of ["lint: [1/2]", "lint: [2/2]"]) {
      expect(log(r, copy)).toContain("optout: lint is waived");
      expect(log(r, copy)).not.toContain("LINT-WORK-RAN");
    }
  });

  it("the remote down: guard fails, and the job's script runs all the same (fail closed)", async () => {
    const dir = await runnerCheckout("job-down");
    // gitlab-ci-local fetches the components once per checkout; the job then finds GitLab down.
    expect((await pipeline(dir, ["lint"])).code).toBe(0);
    server.down = true;
    try {
      const r = await pipeline(dir, ["lint"]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(log(r, "lint")).toContain("optout: guard failed (exit 2); running lint (fail closed)");
      expect(log(r, "lint")).toContain("LINT-WORK-RAN");
      expect(server.requests.at(-1)?.status).toBe(503);
    } finally {
      server.down = false;
    }
  });
});

describe("the expire component under gitlab-ci-local", () => {
  it("a scheduled pipeline pushes the expiry record to the project's URL, its port and token included", async () => {
    const later = new Date(Date.now() + 6 * 3_600_000).toISOString();
    const before = await git(w.remote, "rev-parse", "refs/heads/optout/audit");
    const r = await pipeline(await runnerCheckout("job-expire"), ["optout-expire"], {
      CI_PIPELINE_SOURCE: "schedule",
      SCHEDULED_TASK: "optout-expire",
      OPTOUT_GITLAB_TOKEN: TOKEN,
      OPTOUT_SIGNING_KEY: w.keys.bob!.privatePath,
      OPTOUT_NOW: later,
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(log(r, "optout-expire")).toMatch(/expired skip lint@main \(\w+\)/);
    expect(await git(w.remote, "rev-parse", "refs/heads/optout/audit")).not.toBe(before);
    const pushes = server.requests.filter((q) => q.service === "git-receive-pack");
    expect(pushes.at(-1)?.status).toBe(200);
    // The token never reaches the job's log.
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });

  it("a push pipeline runs the guarded job, not the expire job", async () => {
    const r = await pipeline(await runnerCheckout("job-push"), []);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PASS\s+lint/);
    expect(log(r, "optout-expire")).toBe("");
  });
});

describe("GitLab's rules for the pipeline files (gitlab-ci-local validates with GitLab's schema)", () => {
  /** gitlab-ci-local --list-all in a checkout holding these files: the pipeline as GitLab would read it. */
  async function check(name: string, files: Record<string, string>, args: string[] = []): Promise<RunResult> {
    const dir = await runnerCheckout(name);
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(dir, path, ".."), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    // gitlab-ci-local reads local includes from what git tracks, as GitLab reads the commit.
    await git(dir, "add", "-A");
    await git(dir, "-c", "user.name=dev", "-c", "user.email=dev@example.com", "commit", "-q", "-m", name);
    // gitlab-ci-local downloads two components of one project and version at the same time, and
    // each copies its files into the same folder: under load the second `cp` fails ("File exists").
    // The guard component is put where gitlab-ci-local keeps what it downloaded, as a previous run
    // would have, so it downloads only the expire component (still over HTTP, from the tag). The
    // jobs' tests above download both, and assert it.
    const cached = join(dir, ".gitlab-ci-local", "includes", "127.0.0.1", "optout-cli", "optout", version);
    await mkdir(join(cached, "templates"), { recursive: true });
    await writeFile(
      join(cached, "templates", "guard.yml"),
      await readFile(join(repoRoot, "templates", "guard.yml"), "utf8"),
    );
    return pipeline(dir, ["--list-all", ...args]);
  }

  const example = (p: string) => readFileSync(join(repoRoot, "examples", "gitlab", p), "utf8");
  const variants: [string, Record<string, string>][] = [
    [
      "examples/gitlab",
      {
        ".gitlab-ci.yml": example(".gitlab-ci.yml"),
        ".gitlab/optout-rollout.yml": example(".gitlab/optout-rollout.yml"),
      },
    ],
  ];
  const stageSets: Record<string, StageAnswer[]> = {
    "a status stage": [{ name: "build", mechanism: "status", context: "ci/build" }],
    "a stage per mechanism": [
      { name: "lint", mechanism: "guard" },
      { name: "sec.scan", mechanism: "variable", variable: "OPTOUT_SKIP_SEC_SCAN" },
      { name: "build", mechanism: "status", context: "ci/build" },
    ],
  };
  for (const provider of ["git", "gitlab"] as const) {
    for (const [set, stages] of Object.entries(stageSets)) {
      const files = pipelineFiles("gitlab", { provider, stages, version });
      variants.push([
        `init --provider ${provider}, ${set}`,
        Object.fromEntries(files.map((f) => [f.path, f.content])),
      ]);
    }
  }

  it.each(variants)("%s: a valid pipeline", async (name, files) => {
    const r = await check(`valid-${name.replace(/\W+/g, "-")}`, files);
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stderr).toContain("json schema validated");
  });

  it("the checks are real: a script item with ': ' is refused, as GitLab refuses it", async () => {
    const r = await check("invalid-colon", {
      ".gitlab-ci.yml": 'deploy:\n  script:\n    - echo "optout record $OPTOUT_RECORD: deploying"\n',
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("script contains non string value");
  });

  it("optout's pipeline gets its values as inputs or as variables: the deploy runs either way, named by its record", async () => {
    const files = Object.fromEntries(
      pipelineFiles("gitlab", {
        provider: "gitlab",
        stages: [{ name: "lint", mechanism: "guard" }],
        version,
      }).map((f) => [f.path, f.content]),
    );
    const jobs = (r: RunResult) =>
      Object.fromEntries(
        [...r.stdout.matchAll(/^(optout-deploy|optout-e2e|lint)\s+\S+\s+(\w+)/gm)].map((m) => [m[1], m[2]]),
      );
    const art = "registry.example.com/shop@sha256:" + "1".repeat(64);
    // A push pipeline: no deploy; the guarded job runs.
    const push = await check("passing-push", files);
    expect(push.code, push.stdout + push.stderr).toBe(0);
    expect(jobs(push)).toEqual({ lint: "on_success", "optout-e2e": "never", "optout-deploy": "never" });
    // The project forbids pipeline variables: optout passes inputs, declared by .gitlab-ci.yml.
    const inputs = await check("passing-inputs", files, [
      ...["artifact", art, "environment", "production", "skip", "e2e", "optout_record", "01JREC"].flatMap(
        (v, i, a) => (i % 2 ? [] : ["--input", `${v}=${a[i + 1]}`]),
      ),
    ]);
    expect(inputs.code, inputs.stdout + inputs.stderr).toBe(0);
    expect(jobs(inputs)).toEqual({ lint: "never", "optout-e2e": "never", "optout-deploy": "on_success" });
    // Pipeline variables, where the project takes them.
    const vars = await check("passing-variables", files, [
      ...["OPTOUT_ARTIFACT", art, "OPTOUT_ENVIRONMENT", "production", "OPTOUT_RECORD", "01JREC"].flatMap(
        (v, i, a) => (i % 2 ? [] : ["--variable", `${v}=${a[i + 1]}`]),
      ),
    ]);
    expect(vars.code, vars.stdout + vars.stderr).toBe(0);
    expect(jobs(vars)).toEqual({ lint: "never", "optout-e2e": "on_success", "optout-deploy": "on_success" });
    // The name `optout sync` looks for (the record id) comes from either.
    expect(files[".gitlab/optout-rollout.yml"]).toMatch(/^workflow:\n {2}name: \$OPTOUT_RECORD\b/m);
    expect(files[".gitlab/optout-rollout.yml"]).toContain("OPTOUT_RECORD: $[[ inputs.optout_record ]]");
  });

  it("a pipeline with stages of its own passes them to the components and rollout jobs", async () => {
    const snippet = gitlabCi({ provider: "gitlab", stages: [{ name: "lint", mechanism: "guard" }], version });
    // After the spec header (the inputs optout passes), as GitLab reads the pipeline's own keys.
    const own = (text: string) => text.replace(/^include:/m, "stages: [build, verify, ship]\ninclude:");
    const rollout = gitlabRollout();
    const defaults = await check("stages-defaults", {
      ".gitlab-ci.yml": own(snippet),
      ".gitlab/optout-rollout.yml": rollout,
    });
    expect(defaults.code, "the default stages test and deploy are not in this pipeline").not.toBe(0);
    expect(defaults.stderr).toMatch(/stage:test not found for optout-expire/);
    const passed = await check("stages-passed", {
      ".gitlab-ci.yml": own(
        snippet
          .replace("stage: test # a stage of your pipeline", "stage: verify")
          .replace("e2e-stage: test", "e2e-stage: verify")
          .replace("deploy-stage: deploy", "deploy-stage: ship")
          .replace("\nlint:\n", "\nlint:\n  stage: verify\n"),
      ),
      ".gitlab/optout-rollout.yml": rollout,
    });
    expect(passed.code, passed.stdout + passed.stderr).toBe(0);
    expect(passed.stdout).toMatch(/optout-deploy\s+ship/);
    expect(passed.stdout).toMatch(/optout-expire\s+verify/);
  });
});
