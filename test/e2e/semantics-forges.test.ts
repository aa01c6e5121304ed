/**
 * What is in force on the forges, with the built CLI against the GitHub and GitLab fakes: one
 * table of scenarios (issue "What is in force", items 3 to 5), each run on both forges, checking
 * what the forge holds afterwards against what `status`, `flag get/list`, `guard` and `expire` say.
 * Plain git's items (1, 2) are in semantics.test.ts.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeGitHub } from "../fakes/github/server.js";
import type { FakeRepo } from "../fakes/github/state.js";
import type { FakeGitLab } from "../fakes/gitlab/server.js";
import { artifact as ghArtifact, githubPolicy, tokens } from "../github/harness.js";
import { gitlabPolicy, artifact as glArtifact, makeGitLabWorld, sha1 } from "../gitlab/harness.js";
import { cliPath, makeWorld, type World } from "../helpers/world.js";

const reason = "incident INC-4411: checkout is down";

/** What a scenario needs of a forge: who may do what, and how to plant and read its state. */
interface Forge {
  name: string;
  w: World;
  /** Who skips stages and who sets flags (the role each forge asks for). */
  skipper: string;
  flagger: string;
  deployer: string;
  artifact(n: number): string;
  /** Runs or pipelines started from now on never finish (true), or finish again (false). */
  stall(stalled: boolean): void;
  /** The artifact the newest deployment run or pipeline carries. */
  deployed(): string | undefined;
  env(person: string): Record<string, string>;
  /** Plants a failing ci/lint on main's commit, as CI left it before optout. */
  failLint(): void;
  /** The newest ci/lint on main's commit: its state and the record it links to, if any. */
  lint(): { state: string; link: string | null } | undefined;
  setVariable(name: string, value: string, env?: string): void;
  variable(name: string, env?: string): string | undefined;
  close(): Promise<void>;
}

const flags = (allow: string[]) => ({
  MAINT: { values: ["on", "off"], allow },
  DEPLOY_TARGET: { values: ["blue", "green"], environments: ["staging", "production"], allow },
});

async function github(): Promise<Forge> {
  const fake = await FakeGitHub.start();
  const w = await makeWorld({
    people: ["alice", "bob"],
    policy: githubPolicy({ flags: flags(["user:alice"]) }),
  });
  for (const [login, token] of Object.entries(tokens)) fake.world.addUser(login, token);
  const repo: FakeRepo = fake.world.addRepo("acme/shop");
  repo.setRole("alice", "admin");
  repo.environment("production");
  repo.environment("staging");
  const deploy = repo.addWorkflow("deploy.yml", {
    inputs: ["artifact", "environment", "skip", "optout_record"],
    runName: (i) => `deploy ${i.environment} (${i.optout_record})`,
  });
  const sha = () => repo.branches.get("main")!;
  return {
    name: "GitHub",
    w,
    skipper: "alice",
    flagger: "alice",
    deployer: "alice",
    artifact: ghArtifact,
    stall: (stalled) => {
      deploy.progression = stalled ? Array(500).fill("in_progress") : ["queued", "in_progress"];
    },
    deployed: () => repo.runs.at(-1)?.inputs.artifact,
    env: (person) => ({
      GITHUB_API_URL: fake.url,
      OPTOUT_GITHUB_TOKEN: tokens[person] ?? "",
      OPTOUT_POLL_INTERVAL_MS: "20",
    }),
    failLint: () => void repo.addStatus(sha(), { state: "failure", context: "ci/lint" }),
    lint: () => {
      const s = repo.latest(sha(), "ci/lint");
      return s && { state: s.state, link: s.target_url ?? null };
    },
    setVariable: (name, value, env) => repo.setVariable(name, value, env),
    variable: (name, env) => repo.variable(name, env),
    close: async () => {
      expect(fake.violations).toEqual([]);
      await fake.close();
      await w.cleanup();
    },
  };
}

async function gitlab(): Promise<Forge & { gl: FakeGitLab }> {
  const g = await makeGitLabWorld({ policy: gitlabPolicy({ flags: flags(["oncall", "releasers"]) }) });
  const project = () => g.gl.project("acme/shop")!;
  const find = (name: string, env?: string) =>
    project().variables.find((v) => v.key === name && v.environment_scope === (env ?? "*"));
  return {
    name: "GitLab",
    w: g.w,
    gl: g.gl,
    skipper: "alice",
    flagger: "bob",
    deployer: "bob",
    artifact: glArtifact,
    stall: (stalled) => {
      g.gl.pipelineScript = stalled ? Array(1000).fill("running") : ["pending", "running", "success"];
    },
    deployed: () =>
      project()
        .pipelines.at(-1)
        ?.variables?.find((v: { key: string }) => v.key === "OPTOUT_ARTIFACT")?.value,
    env: (person) => ({
      CI_SERVER_URL: g.gl.url,
      OPTOUT_GITLAB_TOKEN: g.gl.user(person).token,
      OPTOUT_HTTP_TIMEOUT_MS: "60000",
      OPTOUT_POLL_INTERVAL_MS: "20",
    }),
    failLint: () =>
      void project().statuses.push({
        id: g.gl.id(),
        sha: sha1,
        ref: "main",
        name: "ci/lint",
        status: "failed",
        description: "3 lint errors",
        target_url: "https://ci.example.com/jobs/9",
        userId: g.gl.user("carol").id,
      }),
    lint: () => {
      const s = project()
        .statuses.filter((x) => x.sha === sha1 && x.name === "ci/lint")
        .at(-1);
      return s && { state: s.status === "failed" ? "failure" : s.status, link: s.target_url ?? null };
    },
    setVariable: (name, value, env) =>
      void g.gl.setVariable("acme/shop", name, value, env ? { environment_scope: env } : {}),
    variable: (name, env) => find(name, env)?.value,
    close: async () => {
      expect(g.gl.violations).toEqual([]);
      await g.cleanup();
    },
  };
}

async function run(forge: Forge, person: string, args: string[], env: Record<string, string> = {}) {
  return forge.w.run(person, args, { env: { ...forge.env(person), ...env } });
}
async function ok(forge: Forge, person: string, args: string[], env: Record<string, string> = {}) {
  const r = await run(forge, person, args, env);
  expect(r.code, `optout ${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r;
}
async function json<T = Record<string, unknown>>(forge: Forge, person: string, args: string[]): Promise<T> {
  return JSON.parse((await ok(forge, person, [...args, "--json"])).stdout) as T;
}
interface Active {
  id: string;
  op: string;
  target: Record<string, string | null>;
}
const active = async (forge: Forge, op: string) =>
  (await json<{ active: Active[] }>(forge, forge.skipper, ["status"])).active.filter((a) => a.op === op);

/** The scenarios, each run on every forge. */
const scenarios: { name: string; run(forge: Forge): Promise<void> }[] = [
  {
    name: "item 3: skip A, skip B, revert B — the status from before optout is back, not A's waiver",
    async run(forge) {
      forge.failLint();
      const a = await json(forge, forge.skipper, ["skip", "lint", "--ref", "main", "--reason", reason]);
      expect(forge.lint()).toMatchObject({ state: "success" });
      const b = await json(forge, forge.skipper, ["skip", "lint", "--ref", "main", "--reason", reason]);
      expect(b.record).toMatchObject({ links: { replaces: a.id } });
      await ok(forge, forge.skipper, ["revert", String(b.id), "--reason", reason]);
      const after = forge.lint();
      expect(after?.state).toBe("failure");
      expect(after?.link ?? "").not.toContain(String(a.id));
      expect(await active(forge, "skip")).toEqual([]);
      const guard = await run(forge, forge.skipper, ["guard", "lint", "--ref", "main"]);
      expect(guard.code, guard.stderr).toBe(1);
      // Nothing is left for expire, even after every TTL: the check is not green for ever.
      const later = { OPTOUT_NOW: new Date(Date.now() + 30 * 3_600_000).toISOString() };
      expect((await ok(forge, forge.skipper, ["expire"], later)).stdout).toMatch(/nothing to expire/);
      expect(forge.lint()?.state).toBe("failure");
    },
  },
  {
    name: "item 3: flag set on, set off, revert the second — the variable goes back to before optout",
    async run(forge) {
      const on = await json(forge, forge.flagger, ["flag", "set", "MAINT", "on", "--reason", reason]);
      const off = await json(forge, forge.flagger, ["flag", "set", "MAINT", "off", "--reason", reason]);
      expect(off.record).toMatchObject({ links: { replaces: on.id } });
      expect(forge.variable("MAINT")).toBe("off");
      await ok(forge, forge.flagger, ["revert", String(off.id), "--reason", reason]);
      // There was no MAINT before optout: none now, and every reader says unset.
      expect(forge.variable("MAINT")).toBeUndefined();
      expect((await run(forge, forge.flagger, ["flag", "get", "MAINT"])).code).toBe(1);
      const { flags } = await json<{ flags: { flag: string; value: string | null }[] }>(
        forge,
        forge.flagger,
        ["flag", "list"],
      );
      expect(flags.find((f) => f.flag === "MAINT")?.value).toBeNull();
      expect((await active(forge, "flag")).filter((a) => a.target.flag === "MAINT")).toEqual([]);
    },
  },
  {
    name: "item 4: an environment's own value is the baseline: unset restores it, never deletes it",
    async run(forge) {
      forge.setVariable("DEPLOY_TARGET", "green", "production");
      const set = await json(forge, forge.flagger, [
        "flag",
        "set",
        "DEPLOY_TARGET",
        "blue",
        "--env",
        "production",
        "--reason",
        reason,
      ]);
      expect(forge.variable("DEPLOY_TARGET", "production")).toBe("blue");
      const unset = await ok(forge, forge.flagger, [
        "flag",
        "unset",
        "DEPLOY_TARGET",
        "--env",
        "production",
        "--reason",
        reason,
      ]);
      expect(forge.variable("DEPLOY_TARGET", "production")).toBe("green");
      expect(forge.variable("DEPLOY_TARGET")).toBeUndefined();
      // unset names no revert command: there is nothing of optout's left to revert.
      expect(unset.stdout + unset.stderr).not.toMatch(/optout revert/);
      const again = await run(forge, forge.flagger, ["revert", String(set.id), "--reason", reason]);
      expect(again.code).toBe(2);
      expect(forge.variable("DEPLOY_TARGET", "production")).toBe("green");
    },
  },
  {
    name: "item 5: a rollout --wait that runs out is unknown, in force, and revert rolls back from it",
    async run(forge) {
      const deploy = ["rollout", "--env", "production", "--reason", reason];
      const first = await json(forge, forge.deployer, [...deploy, "--artifact", forge.artifact(1)]);
      forge.stall(true);
      const slow = await run(forge, forge.deployer, [
        ...deploy,
        "--artifact",
        forge.artifact(2),
        "--wait",
        "--timeout",
        "1s",
      ]);
      forge.stall(false);
      expect(slow.code).toBe(1);
      expect(slow.stderr).toMatch(/optout sync/);
      const {
        records: [result],
      } = await json<{ records: { type: string; outcome: string; links: { intent: string } }[] }>(
        forge,
        forge.deployer,
        ["log", "--limit", "1"],
      );
      expect(result).toMatchObject({ type: "result", outcome: "unknown" });
      const second = result!.links.intent;
      // It may be live: in force (outcome unknown) under the id revert takes, not "failed".
      expect((await active(forge, "rollout")).map((a) => a.id)).toEqual([second]);
      await ok(forge, forge.deployer, ["revert", second, "--reason", reason]);
      expect(forge.deployed()).toBe(forge.artifact(1));
      expect((await active(forge, "rollout")).map((a) => [a.id, a.target.artifact])).toEqual([
        [first.id, forge.artifact(1)],
      ]);
    },
  },
];

for (const make of [github, gitlab]) {
  describe(`what is in force on ${make === github ? "GitHub" : "GitLab"}`, () => {
    let forge: Forge;
    beforeAll(async () => {
      forge = await make();
    });
    afterAll(() => forge.close());
    for (const s of scenarios) it(s.name, () => s.run(forge));
  });
}

describe("item 5 on GitLab: kill -9 mid-failover, then sync settles it by reading GitLab", () => {
  let forge: Forge & { gl: FakeGitLab };
  beforeAll(async () => {
    forge = await gitlab();
  });
  afterAll(() => forge.close());

  it("the variable switched, the pipeline never answered: sync records applied, revert fails back", async () => {
    forge.setVariable("ACTIVE_REGION", "us-east-1");
    forge.gl.inject({ method: "POST", path: /\/pipeline$/, hang: true });
    const child = spawn(process.execPath, [cliPath, "failover", "--to", "eu-west-1", "--reason", reason], {
      cwd: forge.w.work,
      env: { ...forge.w.env("bob"), ...forge.env("bob") },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    let done = false;
    const exited = new Promise<void>((r) =>
      child.on("close", () => {
        done = true;
        r();
      }),
    );
    // Killed once GitLab holds the pipeline request: the variable is already switched.
    for (let i = 0; i < 600 && !done && !forge.gl.lines().some((l) => l.endsWith("/pipeline")); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(done, stderr).toBe(false);
    expect(forge.gl.lines().filter((l) => l.startsWith("POST") && l.endsWith("/pipeline"))).toHaveLength(1);
    child.kill("SIGKILL");
    await exited;
    expect(forge.variable("ACTIVE_REGION")).toBe("eu-west-1");

    const before = await json<{ unsettled?: unknown[] }>(forge, "bob", ["status"]);
    expect(JSON.stringify(before)).toMatch(/failover/);
    const sync = await json<{ settled: { id: string; outcome: string }[] }>(forge, "bob", ["sync"]);
    expect(sync.settled).toEqual([expect.objectContaining({ outcome: "applied" })]);
    const id = sync.settled[0]!.id;
    // In force under the intent's id, with no pipeline to re-run: revert fails back.
    expect((await active(forge, "failover")).map((a) => a.id)).toEqual([id]);
    expect(await json(forge, "bob", ["failover", "--show"])).toMatchObject({ target: "eu-west-1", id });
    await ok(forge, "bob", ["revert", id, "--reason", reason]);
    expect(forge.variable("ACTIVE_REGION")).toBe("us-east-1");
    expect(await active(forge, "failover")).toEqual([]);
  });
});
