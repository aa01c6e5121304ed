#!/usr/bin/env node
/**
 * `npm run bench`: how fast optout starts, guards, appends and verifies, as ratios against a
 * baseline measured in the same run (never a fixed number of milliseconds: machines differ, and
 * a loaded CI runner slows the baseline as much as the subject). docs/performance.md explains
 * each figure and its target.
 *
 * Every process is timed whole, as a pipeline job waits for it: node + optout + the git it runs,
 * against a bare remote on local disk, and (bench/pipeline-job.mjs) over smart HTTP in a checkout
 * made as runners make one, with the install a job pays and the git processes and network round
 * trips guard costs. Medians of BENCH_RUNS rounds (default 11, at least 10) after one warm-up; the
 * cases of one figure run round-robin.
 *
 *   BENCH_RECORDS=100000  size of the big ledger (default 10,000)
 *   BENCH_RUNS=20         rounds for the guard and append figures (start-up: 3× as many)
 *   BENCH_SLOW_RUNS=10    rounds for the slow figures: guard in a fresh checkout (it fetches the
 *                         audit branch) and log (it reads all of it); default 10, at least 10
 *   BENCH_CLI=<dir>       bench another build (a directory with bin/, dist/, package.json)
 *   BENCH_BASE=<dir>      also run that build's guard in the runner checkout, in the same rounds
 *                         (a before/after comparison that one machine's load cannot skew)
 *   BENCH_NO_BUILD=1      do not rebuild a dist/ older than src/
 *   BENCH_KEEP=1          keep the temporary repositories (their path is printed)
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { makeLedger } from "./make-ledger.mjs";
import { exits, measure, timeNode, timeSpawn } from "./measure.mjs";
import { benchPipelineJob } from "./pipeline-job.mjs";
import { git, makeKey, makeWorld, principal, repoRoot } from "./world.mjs";

const int = (name, fallback, min) => {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}=${v}: expected a whole number ≥ ${min}`);
  return n;
};
const bigRecords = int("BENCH_RECORDS", 10_000, 100);
const smallRecords = 10;
const runs = int("BENCH_RUNS", 11, 10);
const slowRuns = int("BENCH_SLOW_RUNS", 10, 10);

const say = (s) => process.stderr.write(`${s}\n`);
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;

// ---- the build under test ----

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function dirBytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

function ensureBuilt() {
  const main = join(repoRoot, "dist", "main.js");
  const stale = !existsSync(main) || newestMtime(join(repoRoot, "src")) > statSync(main).mtimeMs;
  if (!stale) return;
  if (process.env.BENCH_NO_BUILD === "1" && existsSync(main)) {
    say("warning: dist/ is older than src/ (BENCH_NO_BUILD=1: benching it anyway)");
    return;
  }
  say("dist/ is older than src/: npm run build");
  const r = spawnSync("npm", ["run", "--silent", "build"], { cwd: repoRoot, stdio: "inherit" });
  if (r.status !== 0)
    throw new Error("the build failed; fix it (or BENCH_NO_BUILD=1) and run the bench again");
}

/**
 * A private copy of bin/, dist/ and package.json (node_modules linked): others may rebuild dist/
 * while the bench runs, and a figure must not mix two builds.
 */
function snapshotCli(tmp) {
  const dir = join(tmp, "cli");
  for (const p of ["bin", "dist", "package.json"])
    cpSync(join(repoRoot, p), join(dir, p), { recursive: true });
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

// ---- the run ----

const tmp = mkdtempSync(join(os.tmpdir(), "optout-bench-"));
let cliDir = process.env.BENCH_CLI;
if (!cliDir) {
  ensureBuilt();
  cliDir = snapshotCli(tmp);
}
const cli = join(cliDir, "bin", "optout.js");
const baseCli = process.env.BENCH_BASE ? join(process.env.BENCH_BASE, "bin", "optout.js") : undefined;
if (baseCli && !existsSync(baseCli))
  throw new Error(`BENCH_BASE=${process.env.BENCH_BASE}: no bin/optout.js there`);
const loadStart = os.loadavg();
// What is measured: the checkout as it was when the snapshot was taken.
const measuredCommit = gitOr(["rev-parse", "HEAD"]);
const measuredDirty = gitOr(["status", "--porcelain", "--", "src", "bin", "package.json"]) !== "";

try {
  const key = makeKey(tmp);
  const small = makeWorld(join(tmp, "small"), key);
  const big = makeWorld(join(tmp, "big"), key);
  const node = (world, args) => () => timeNode(args, { cwd: world.work, env: world.env });
  const optout = (world, ...args) => node(world, [cli, ...args]);
  // Each phase has its own baseline, measured between its cases: the load may change between phases.
  const baseline = (phase) => ({
    name: `node -e 0 (${phase})`,
    run: node(small, ["-e", "0"]),
    check: exits(0),
  });
  const results = { cases: {}, figures: [] };
  const keep = (r) => Object.assign(results.cases, r);
  const figure = (id, label, value, unit, target, met) => {
    results.figures.push({ id, label, value: Math.round(value * 1000) / 1000, unit, target, met });
  };
  const ratio = (r, a, b) => r[a].median / r[b].median;

  say(`bench: ${bigRecords} records, ${runs} rounds (${slowRuns} for the slow figures), in ${tmp}`);

  // 1. Start-up: --version, --help. Short processes are the noisiest, and cheap: 3× the rounds.
  const startup = measure(
    [
      baseline("start-up"),
      { name: "optout --version", run: optout(small, "--version"), check: exits(0) },
      { name: "optout --help", run: optout(small, "--help"), check: exits(0) },
    ],
    { runs: runs * 3 },
  );
  keep(startup);
  const version = ratio(startup, "optout --version", "node -e 0 (start-up)");
  figure("version", "optout --version vs node -e 0", version, "×", "≤ 1.3", version <= 1.3);
  figure(
    "help",
    "optout --help vs node -e 0",
    ratio(startup, "optout --help", "node -e 0 (start-up)"),
    "×",
    null,
    null,
  );
  say(`[${elapsed()}] start-up measured`);

  // The ledgers: generated straight into each bare remote, ending 6 h ago so every generated
  // skip has expired (TTL 4h): guard's answer then rests on the skip the bench appends.
  const end = Date.now() - 6 * 3_600_000;
  const dist = join(cliDir, "dist");
  let t = performance.now();
  await makeLedger({ gitDir: small.remote, records: smallRecords, key: key.path, principal, end, dist });
  await makeLedger({ gitDir: big.remote, records: bigRecords, key: key.path, principal, end, dist });
  const generateS = (performance.now() - t) / 1000;
  say(`[${elapsed()}] generated ${smallRecords} + ${bigRecords} records in ${generateS.toFixed(1)} s`);

  // Gate: what is measured is a real ledger. This is also each clone's first fetch.
  for (const [w, n] of [
    [small, smallRecords],
    [big, bigRecords],
  ]) {
    t = performance.now();
    const r = timeNode([cli, "log", "--verify"], { cwd: w.work, env: w.env });
    if (r.status !== 0 || !r.stdout.toString().startsWith(`verified ${n} record(s)`)) {
      throw new Error(`optout log --verify rejects the generated ledger: ${r.stdout}${r.stderr}`);
    }
    say(
      `[${elapsed()}] log --verify accepts ${n} generated records (first fetch included: ${r.ms.toFixed(0)} ms)`,
    );
  }

  // 3. Append: one `optout skip` (one record) on the small and on the big ledger, in clones that
  // already have the branch (an operator's clone).
  const skipArgs = ["skip", "lint", "--reason", "bench: linter crashes on node 22, INC-4411", "--yes"];
  const append = measure(
    [
      baseline("append"),
      { name: `skip (append) on ${smallRecords}`, run: optout(small, ...skipArgs), check: exits(0) },
      { name: `skip (append) on ${bigRecords}`, run: optout(big, ...skipArgs), check: exits(0) },
    ],
    { runs },
  );
  keep(append);
  const appendRatio = ratio(append, `skip (append) on ${bigRecords}`, `skip (append) on ${smallRecords}`);
  figure(
    "append",
    `append: ${bigRecords} vs ${smallRecords} records`,
    appendRatio,
    "×",
    "≤ 1.2",
    appendRatio <= 1.2,
  );
  figure(
    "append-vs-node",
    `append on ${smallRecords} records vs node -e 0`,
    ratio(append, `skip (append) on ${smallRecords}`, "node -e 0 (append)"),
    "×",
    null,
    null,
  );
  say(`[${elapsed()}] append measured`);

  // 2 and 4. Guard, as in a pipeline job: CI variables name the ref and commit. The newest record
  // now waives lint on main, so guard verifies it and scans the days since for a revert: its full
  // path. e2e has no override (guard's most common answer).
  const mainSha = git(small.work, "rev-parse", "origin/main");
  const job = (w, dir) => ({
    cwd: dir ?? w.work,
    env: { ...w.env, CI_COMMIT_REF_NAME: "main", CI_COMMIT_SHA: mainSha },
  });
  const guardIn = (w, stage, dir) => () => timeNode([cli, "guard", stage], job(w, dir()));

  // As a pipeline runs it: a fresh checkout (depth 1, like actions/checkout), so guard's fetch
  // brings the audit branch for the first time.
  const fresh = (w) => {
    const dir = join(w.dir, "job");
    return {
      dir: () => dir,
      prepare: () => {
        rmSync(dir, { recursive: true, force: true });
        git(w.dir, "clone", "-q", "--depth=1", "--no-tags", "--branch", "main", `file://${w.remote}`, dir);
      },
    };
  };
  const smallJob = fresh(small);
  const bigJob = fresh(big);
  const firstFetch = measure(
    [
      baseline("fresh checkout"),
      {
        name: `guard lint on ${smallRecords}, fresh checkout`,
        prepare: smallJob.prepare,
        run: guardIn(small, "lint", smallJob.dir),
        check: exits(0, "skip"),
      },
      {
        name: `guard lint on ${bigRecords}, fresh checkout`,
        prepare: bigJob.prepare,
        run: guardIn(big, "lint", bigJob.dir),
        check: exits(0, "skip"),
      },
    ],
    { runs: slowRuns },
  );
  keep(firstFetch);
  // What the last fresh checkout of each size holds after guard: the pipeline's download.
  const objectsKB = (job) => dirBytes(join(job.dir(), ".git", "objects")) / 1024;
  const freshKB = { small: objectsKB(smallJob), big: objectsKB(bigJob) };
  say(`[${elapsed()}] guard in fresh checkouts measured`);

  // The audit branch already fetched (a runner that keeps its clone, or a second guard in one
  // job): guard's fetch finds nothing new. Its fetch (both branches in one, as guard does) is also
  // timed alone.
  const fetchArgs = [
    "fetch",
    "--quiet",
    "--no-tags",
    "--no-write-fetch-head",
    "origin",
    "+refs/heads/optout/audit:refs/remotes/origin/optout/audit",
    "+refs/heads/main:refs/remotes/origin/main",
  ];
  const work = (w) => () => w.work;
  const fetched = measure(
    [
      baseline("fetched"),
      {
        name: `guard lint on ${smallRecords}, fetched`,
        run: guardIn(small, "lint", work(small)),
        check: exits(0, "skip"),
      },
      {
        name: `guard lint on ${bigRecords}, fetched`,
        run: guardIn(big, "lint", work(big)),
        check: exits(0, "skip"),
      },
      {
        name: `guard e2e on ${smallRecords}, fetched (run)`,
        run: guardIn(small, "e2e", work(small)),
        check: exits(1, "run"),
      },
      {
        name: "guard's git fetch alone",
        run: () => timeSpawn("git", fetchArgs, job(small)),
        check: exits(0),
      },
    ],
    { runs },
  );
  keep(fetched);
  const fr = (a) => firstFetch[a].median / firstFetch["node -e 0 (fresh checkout)"].median;
  const fe = (a) => fetched[a].median / fetched["node -e 0 (fetched)"].median;
  const guardFresh = fr(`guard lint on ${smallRecords}, fresh checkout`);
  figure("guard", "guard lint (fresh checkout) vs node -e 0", guardFresh, "×", "≤ 1.5", guardFresh <= 1.5);
  const guardFetched = fe(`guard lint on ${smallRecords}, fetched`);
  figure(
    "guard-fetched",
    "guard lint (branch already fetched) vs node -e 0",
    guardFetched,
    "×",
    "≤ 1.5",
    guardFetched <= 1.5,
  );
  const fetchMs = fetched["guard's git fetch alone"].median;
  figure(
    "guard-no-fetch",
    "guard lint (fetched), its git fetch taken out, vs node -e 0",
    (fetched[`guard lint on ${smallRecords}, fetched`].median - fetchMs) /
      fetched["node -e 0 (fetched)"].median,
    "×",
    null,
    null,
  );
  figure(
    "guard-run",
    "guard e2e (fetched, nothing waived) vs node -e 0",
    fe(`guard e2e on ${smallRecords}, fetched (run)`),
    "×",
    null,
    null,
  );
  const scaleFresh = ratio(
    firstFetch,
    `guard lint on ${bigRecords}, fresh checkout`,
    `guard lint on ${smallRecords}, fresh checkout`,
  );
  figure(
    "guard-scale",
    `guard, fresh checkout: ${bigRecords} vs ${smallRecords} records`,
    scaleFresh,
    "×",
    "≤ 1.2",
    scaleFresh <= 1.2,
  );
  figure(
    "guard-fresh-kb",
    `fresh checkout's objects after guard, ${bigRecords} records (${Math.round(freshKB.small)} KB at ${smallRecords})`,
    freshKB.big,
    "KB",
    null,
    null,
  );
  const scaleFetched = ratio(
    fetched,
    `guard lint on ${bigRecords}, fetched`,
    `guard lint on ${smallRecords}, fetched`,
  );
  figure(
    "guard-scale-fetched",
    `guard, branch fetched: ${bigRecords} vs ${smallRecords} records`,
    scaleFetched,
    "×",
    "≤ 1.2",
    scaleFetched <= 1.2,
  );
  say(`[${elapsed()}] guard measured`);

  // 6. A pipeline job as runners run it: installing optout, guard in a runner-made checkout over
  // HTTP, and what guard asks of git and of the network.
  const pj = await benchPipelineJob({ tmp, cli, baseCli, world: small, runs, slowRuns, baseline });
  keep(pj.install);
  keep(pj.cases);
  const installS = pj.install["npm install --global (packed tarball, empty cache)"].median / 1000;
  figure(
    "package-kb",
    `npm pack: the tarball (${pj.packed.entryCount} files)`,
    pj.packed.size / 1024,
    "KB",
    null,
    null,
  );
  figure(
    "install",
    "npm install --global of the tarball, empty cache",
    installS,
    "s",
    "≤ 3 s",
    installS <= 3,
  );
  figure(
    "install-vs-npm",
    "the install vs npm --version (npm's own start-up)",
    ratio(pj.install, "npm install --global (packed tarball, empty cache)", "npm --version"),
    "×",
    null,
    null,
  );
  const jr = (a) => pj.cases[a].median / pj.cases["node -e 0 (runner checkout)"].median;
  const guardRunner = jr("guard lint, runner checkout (waived)");
  figure(
    "guard-runner",
    "guard lint (runner checkout) vs node -e 0",
    guardRunner,
    "×",
    "≤ 2",
    guardRunner <= 2,
  );
  figure(
    "guard-runner-run",
    "guard e2e (runner checkout, nothing waived) vs node -e 0",
    jr("guard e2e, runner checkout (nothing waived)"),
    "×",
    null,
    null,
  );
  if (baseCli) {
    for (const [stage, label] of [
      ["lint", "guard lint, runner checkout (waived)"],
      ["e2e", "guard e2e, runner checkout (nothing waived)"],
    ]) {
      figure(
        `guard-runner-base-${stage}`,
        `guard ${stage} (runner checkout), BENCH_BASE build, vs node -e 0`,
        jr(`${label}, BENCH_BASE`),
        "×",
        null,
        null,
      );
      figure(
        `guard-runner-vs-base-${stage}`,
        `guard ${stage} (runner checkout): this build vs BENCH_BASE`,
        pj.cases[label].median / pj.cases[`${label}, BENCH_BASE`].median,
        "×",
        null,
        null,
      );
    }
  }
  figure(
    "install-vs-guard",
    "the install vs guard lint (runner checkout)",
    pj.install["npm install --global (packed tarball, empty cache)"].median /
      pj.cases["guard lint, runner checkout (waived)"].median,
    "×",
    null,
    null,
  );
  for (const [stage, c] of Object.entries(pj.counted)) {
    const connections = c.requests.filter((r) => r.method === "GET" && r.path.endsWith("/info/refs")).length;
    const n = c.gitProcesses.length;
    figure(`git-processes-${stage}`, `guard ${stage} (runner checkout): git processes`, n, "", "≤ 3", n <= 3);
    figure(
      `round-trips-${stage}`,
      `guard ${stage}: network round trips (git connections)`,
      connections,
      "",
      "≤ 1",
      connections <= 1,
    );
    figure(`http-requests-${stage}`, `guard ${stage}: HTTP requests`, c.requests.length, "", null, null);
  }
  results.pipelineJob = {
    package: { size: pj.packed.size, unpackedSize: pj.packed.unpackedSize, files: pj.packed.entryCount },
    counted: pj.counted,
  };
  say(`[${elapsed()}] pipeline job measured`);

  // 5. Reading the whole ledger: log --verify and log --json.
  const smallTotal = smallRecords + runs + 1;
  const bigTotal = bigRecords + runs + 1;
  const verified = (n) => (r) =>
    exits(0)(r) ??
    (r.stdout.toString().startsWith(`verified ${n} record(s)`) ? undefined : "not all verified");
  const parsed = new Set();
  const listed = (n) => (r) => {
    const wrong = exits(0)(r);
    if (wrong || parsed.has(n)) return wrong;
    // Parse once (the warm-up): parsing every round would time the bench, not optout.
    const count = JSON.parse(r.stdout.toString("utf8")).records.length;
    if (count !== n) return `listed ${count} records, expected ${n}`;
    parsed.add(n);
    return undefined;
  };
  const logs = measure(
    [
      {
        name: `log --verify on ${smallTotal}`,
        run: optout(small, "log", "--verify"),
        check: verified(smallTotal),
      },
      { name: `log --verify on ${bigTotal}`, run: optout(big, "log", "--verify"), check: verified(bigTotal) },
      { name: `log --json on ${smallTotal}`, run: optout(small, "log", "--json"), check: listed(smallTotal) },
      { name: `log --json on ${bigTotal}`, run: optout(big, "log", "--json"), check: listed(bigTotal) },
    ],
    { runs: slowRuns },
  );
  keep(logs);
  const rate = (what, total) => total / (logs[`${what} on ${total}`].median / 1000);
  const marginal = (what) =>
    (bigTotal - smallTotal) /
    ((logs[`${what} on ${bigTotal}`].median - logs[`${what} on ${smallTotal}`].median) / 1000);
  const verifyRate = rate("log --verify", bigTotal);
  figure(
    "verify",
    `log --verify over ${bigTotal} records`,
    verifyRate,
    "records/s",
    "≥ 5000",
    verifyRate >= 5000,
  );
  figure(
    "verify-marginal",
    "log --verify, start-up taken out",
    marginal("log --verify"),
    "records/s",
    null,
    null,
  );
  figure(
    "json",
    `log --json over ${bigTotal} records`,
    rate("log --json", bigTotal),
    "records/s",
    null,
    null,
  );
  figure("json-marginal", "log --json, start-up taken out", marginal("log --json"), "records/s", null, null);
  say(`[${elapsed()}] log measured`);

  results.meta = {
    date: new Date().toISOString(),
    commit: measuredCommit,
    dirty: measuredDirty,
    node: process.version,
    git: git(tmp, "--version").replace(/^git version /, ""),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    loadavg: { start: loadStart.map(round2), end: os.loadavg().map(round2) },
    records: { small: smallRecords, big: bigRecords },
    runs,
    slowRuns,
    generateSeconds: round2(generateS),
    totalSeconds: round2((performance.now() - started) / 1000),
    cli: process.env.BENCH_CLI ?? "this checkout (snapshot of dist/)",
  };
  const out = join(repoRoot, "bench", "results.json");
  writeFileSync(
    out,
    `${JSON.stringify({ meta: results.meta, figures: results.figures, cases: results.cases, pipelineJob: results.pipelineJob }, null, 2)}\n`,
  );
  // In the project's format, so `npm run lint` stays clean after a bench run.
  const biome = join(repoRoot, "node_modules", ".bin", "biome");
  if (existsSync(biome)) spawnSync(biome, ["format", "--write", out], { cwd: repoRoot, stdio: "ignore" });
  print(results);
  say(`\nwrote ${out} (${elapsed()})`);
} finally {
  if (process.env.BENCH_KEEP === "1") say(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}

function round2(n) {
  return Math.round(n * 100) / 100;
}

function gitOr(args) {
  try {
    return execFileSync("git", args, { cwd: repoRoot, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

function print({ meta, figures, cases }) {
  const lines = [];
  lines.push(
    `optout bench — ${meta.cpus} × ${meta.cpuModel}, node ${meta.node}, git ${meta.git}, load ${meta.loadavg.start[0]}`,
  );
  lines.push("");
  lines.push(`${"figure".padEnd(60)} ${"value".padStart(12)}  ${"target".padEnd(9)} met`);
  for (const f of figures) {
    const value =
      f.unit === "×"
        ? `${f.value.toFixed(2)}×`
        : f.unit === "s"
          ? `${f.value.toFixed(2)} s`
          : `${Math.round(f.value).toLocaleString("en")}${{ KB: " KB", "records/s": "/s" }[f.unit] ?? ""}`;
    const met = f.met === null ? "" : f.met ? "yes" : "NO";
    lines.push(`${f.label.padEnd(60)} ${value.padStart(12)}  ${(f.target ?? "").padEnd(9)} ${met}`);
  }
  lines.push("");
  lines.push(`${"case (wall time of the whole process)".padEnd(60)} ${"median".padStart(12)}  min–max`);
  for (const [name, c] of Object.entries(cases)) {
    lines.push(
      `${name.padEnd(60)} ${`${c.median.toFixed(1)} ms`.padStart(12)}  ${c.min.toFixed(0)}–${c.max.toFixed(0)} ms`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}
