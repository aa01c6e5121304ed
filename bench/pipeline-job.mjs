/**
 * What a guarded pipeline job pays, as runners run it: installing optout (the packed tarball,
 * fetched over HTTP into an empty npm cache), then `optout guard` in a checkout made the way
 * actions/checkout makes one (git init, a depth-1 fetch of the commit over smart HTTP, no
 * refs/remotes/origin/HEAD), with the environment GitHub Actions gives a step. Also counted, in
 * one more run each: the git processes guard starts (a `git` first on PATH that logs and hands
 * over to the real one) and its network round trips (the requests the HTTP remote answers).
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { exits, measure, timeNode, timeSpawn } from "./measure.mjs";
import { git, repoRoot } from "./world.mjs";

/** Starts bench/git-server.mjs serving `repos` and the files in `files`; resolves to its URLs. */
async function startServer(tmp, repos, files) {
  const log = join(tmp, "git-requests.log");
  writeFileSync(log, "");
  const child = spawn(
    process.execPath,
    [join(repoRoot, "bench", "git-server.mjs"), JSON.stringify({ repos, files, log })],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`bench/git-server.mjs exited (${code})`)));
  });
  const [gitUrl, filesUrl] = line.trim().split(" ");
  return {
    gitUrl,
    filesUrl,
    resetLog: () => writeFileSync(log, ""),
    requests: () =>
      readFileSync(log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    stop: () => child.kill(),
  };
}

/** `npm pack` of this checkout (dist/ as built): the tarball a release publishes, and npm's figures. */
function pack(dir) {
  const out = execFileSync(
    "npm",
    ["pack", "--ignore-scripts", "--json", "--pack-destination", dir, "--loglevel=error"],
    { cwd: repoRoot, encoding: "utf8" },
  );
  const [info] = JSON.parse(out);
  return { ...info, file: join(dir, info.filename), tarball: info.filename };
}

/**
 * @param {object} o
 * @param {string} o.tmp         scratch directory
 * @param {string} o.cli         bin/optout.js of the build under test
 * @param {string} [o.baseCli]   bin/optout.js of a build to compare with: its guard runs in the same rounds
 * @param {{remote: string, work: string, env: Record<string, string>}} o.world a world whose
 *   newest record waives lint on main
 * @param {number} o.runs
 * @param {number} o.slowRuns
 * @param {(phase: string) => import("./measure.mjs").Case} o.baseline
 */
export async function benchPipelineJob(o) {
  const dir = join(o.tmp, "pipeline-job");
  mkdirSync(dir, { recursive: true });
  const packed = pack(dir);
  const server = await startServer(dir, { "acme/shop.git": o.world.remote }, dir);
  try {
    const remoteUrl = `${server.gitUrl}/acme/shop.git`;
    const sha = git(o.world.work, "rev-parse", "origin/main");

    // 1. Installing optout, as a job would without the Action or the component.
    const prefix = join(dir, "prefix");
    const cache = join(dir, "npm-cache");
    const { version } = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
    const install = measure(
      [
        // npm's own start-up: the floor of any install.
        {
          name: "npm --version",
          run: () => timeSpawn("npm", ["--version"], { cwd: dir, env: process.env }),
          check: exits(0),
        },
        {
          name: "npm install --global (packed tarball, empty cache)",
          prepare: () => {
            rmSync(prefix, { recursive: true, force: true });
            rmSync(cache, { recursive: true, force: true });
          },
          run: () =>
            timeSpawn(
              "npm",
              [
                "install",
                "--global",
                "--prefix",
                prefix,
                "--cache",
                cache,
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                `${server.filesUrl}/${packed.tarball}`,
              ],
              { cwd: dir, env: process.env },
            ),
          check: (r) =>
            exits(0)(r) ??
            (execFileSync(join(prefix, "bin", "optout"), ["--version"], { encoding: "utf8" }).trim() ===
            version
              ? undefined
              : "the installed optout does not print its version"),
        },
      ],
      { runs: o.slowRuns },
    );

    // 2. guard in a checkout made as actions/checkout makes it, with a step's environment.
    const job = join(dir, "job");
    const event = join(dir, "event.json");
    writeFileSync(
      event,
      JSON.stringify({
        ref: "refs/heads/main",
        repository: { full_name: "acme/shop", default_branch: "main" },
      }),
    );
    const env = {
      ...o.world.env,
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_EVENT_NAME: "push",
      GITHUB_EVENT_PATH: event,
      GITHUB_REF: "refs/heads/main",
      GITHUB_REF_NAME: "main",
      GITHUB_REPOSITORY: "acme/shop",
      GITHUB_SHA: sha,
    };
    const checkout = () => {
      rmSync(job, { recursive: true, force: true });
      git(dir, "init", "-q", job);
      git(job, "remote", "add", "origin", remoteUrl);
      git(
        job,
        "-c",
        "protocol.version=2",
        "fetch",
        "-q",
        "--no-tags",
        "--prune",
        "--no-recurse-submodules",
        "--depth=1",
        "origin",
        `+${sha}:refs/remotes/origin/main`,
      );
      git(job, "checkout", "-q", "--force", "-B", "main", "refs/remotes/origin/main");
    };
    const guard = (stage, extraEnv = {}, cli = o.cli) =>
      timeNode([cli, "guard", stage], { cwd: job, env: { ...env, ...extraEnv } });
    const guardCases = (cli, suffix) => [
      {
        name: `guard lint, runner checkout (waived)${suffix}`,
        prepare: checkout,
        run: () => guard("lint", {}, cli),
        check: exits(0, "skip"),
      },
      {
        name: `guard e2e, runner checkout (nothing waived)${suffix}`,
        prepare: checkout,
        run: () => guard("e2e", {}, cli),
        check: exits(1, "run"),
      },
    ];
    const cases = measure(
      [
        o.baseline("runner checkout"),
        ...guardCases(o.cli, ""),
        ...(o.baseCli ? guardCases(o.baseCli, ", BENCH_BASE") : []),
      ],
      { runs: o.slowRuns },
    );

    // 3. What guard asks of git and of the network, once more with a logging `git` first on PATH.
    const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    const wrapperDir = join(dir, "git-wrapper");
    const gitLog = join(dir, "git-processes.log");
    mkdirSync(wrapperDir, { recursive: true });
    writeFileSync(
      join(wrapperDir, "git"),
      `#!/bin/sh\nprintf '%s\\n' "$*" >> '${gitLog}'\nexec '${realGit}' "$@"\n`,
    );
    chmodSync(join(wrapperDir, "git"), 0o755);
    const counted = {};
    for (const stage of ["lint", "e2e"]) {
      checkout();
      writeFileSync(gitLog, "");
      server.resetLog();
      const r = guard(stage, { PATH: `${wrapperDir}:${env.PATH}` });
      if (r.status !== (stage === "lint" ? 0 : 1)) {
        throw new Error(`guard ${stage} with the counting git failed: ${r.stderr}`);
      }
      counted[stage] = {
        gitProcesses: readFileSync(gitLog, "utf8").split("\n").filter(Boolean),
        requests: server.requests(),
      };
    }
    return { packed, install, cases, counted };
  } finally {
    server.stop();
  }
}
