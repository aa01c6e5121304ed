#!/usr/bin/env node
/**
 * A/B one command across builds, to measure a change before making it:
 *
 *   cp -r bin dist package.json /tmp/b/ && ln -s "$PWD/node_modules" /tmp/b/   # then edit /tmp/b/dist
 *   node bench/compare.mjs . /tmp/b -- guard lint
 *
 * Each directory holds bin/optout.js, dist/ and package.json ("." is this checkout). One world is
 * set up (a generated ledger of --records records, then one `skip lint` so guard has a waiver to
 * verify), and `node -e 0` and every build run the command round-robin, --runs rounds after one
 * warm-up. With --fresh, each run gets a new depth-1 checkout and a pipeline's CI variables, as a
 * pipeline job would (guard then fetches the audit branch for the first time). Prints each median and its ratio to `node -e 0` and to the first build. With --cpu, also
 * the median CPU time of the node process itself (user + system, git children not included): on a
 * machine that others load, CPU time moves much less than wall time, so JavaScript costs show.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { makeLedger } from "./make-ledger.mjs";
import { measure, median, timeNode } from "./measure.mjs";
import { git, makeKey, makeWorld, principal } from "./world.mjs";

const argv = process.argv.slice(2);
const split = argv.indexOf("--");
const { values, positionals } = parseArgs({
  args: split < 0 ? argv : argv.slice(0, split),
  allowPositionals: true,
  options: {
    runs: { type: "string", default: "15" },
    records: { type: "string", default: "10" },
    status: { type: "string" },
    cpu: { type: "boolean", default: false },
    fresh: { type: "boolean", default: false },
  },
});
const dirs = positionals.map((d) => resolve(d));
const args = split < 0 ? [] : argv.slice(split + 1);
if (dirs.length === 0 || args.length === 0) {
  process.stderr.write(
    "usage: node bench/compare.mjs [--runs 15] [--records 10] [--status N] [--cpu] [--fresh] <build> [<build>…] -- <optout args>\n",
  );
  process.exit(2);
}

const tmp = mkdtempSync(join(os.tmpdir(), "optout-compare-"));
try {
  const key = makeKey(tmp);
  const w = makeWorld(join(tmp, "w"), key);
  const cli = (dir) => join(dir, "bin", "optout.js");
  await makeLedger({
    gitDir: w.remote,
    records: Number(values.records),
    key: key.path,
    principal,
    end: Date.now() - 6 * 3_600_000,
    dist: join(dirs[0], "dist"),
  });
  const seed = timeNode(
    [cli(dirs[0]), "skip", "lint", "--reason", "bench: linter crashes on node 22", "--yes"],
    {
      cwd: w.work,
      env: w.env,
    },
  );
  if (seed.status !== 0) throw new Error(`skip failed: ${seed.stderr}`);
  const want = values.status === undefined ? undefined : Number(values.status);
  const check = (r) =>
    want !== undefined && r.status !== want ? `exit ${r.status}: ${r.stderr}` : undefined;
  const cpu = new Map();
  const cpuFile = join(tmp, "cpu");
  // Loaded before the program (every case pays the same): writes the process's CPU time at exit.
  const hook = `data:text/javascript,${encodeURIComponent(
    'import{writeFileSync}from"node:fs";process.on("exit",()=>{const u=process.cpuUsage();' +
      `writeFileSync(${JSON.stringify(cpuFile)},String((u.user+u.system)/1000))})`,
  )}`;
  const job = join(tmp, "job");
  const where = values.fresh
    ? {
        cwd: job,
        env: { ...w.env, CI_COMMIT_REF_NAME: "main", CI_COMMIT_SHA: git(w.work, "rev-parse", "origin/main") },
      }
    : { cwd: w.work, env: w.env };
  const prepare = values.fresh
    ? () => {
        rmSync(job, { recursive: true, force: true });
        git(tmp, "clone", "-q", "--depth=1", "--no-tags", "--branch", "main", `file://${w.remote}`, job);
      }
    : undefined;
  const run = (name, nodeArgs) => () => {
    if (!values.cpu) return timeNode(nodeArgs, where);
    const r = timeNode([`--import=${hook}`, ...nodeArgs], where);
    cpu.set(name, [...(cpu.get(name) ?? []), Number(readFileSync(cpuFile, "utf8"))]);
    return r;
  };
  const cases = [
    { name: "node -e 0", run: run("node -e 0", ["-e", "0"]), prepare },
    ...dirs.map((d) => ({ name: d, run: run(d, [cli(d), ...args]), check, prepare })),
  ];
  const r = measure(cases, { runs: Number(values.runs) });
  const base = r["node -e 0"].median;
  const first = r[dirs[0]].median;
  process.stdout.write(
    `optout ${args.join(" ")} — medians of ${values.runs}, load ${os.loadavg()[0].toFixed(1)}\n`,
  );
  for (const c of cases) {
    const m = r[c.name].median;
    const cpuMs = values.cpu ? `  cpu ${median(cpu.get(c.name).slice(1)).toFixed(1).padStart(6)} ms` : "";
    process.stdout.write(
      `${c.name.padEnd(40)} ${m.toFixed(1).padStart(8)} ms  ${(m / base).toFixed(2)}× node  ${(m / first).toFixed(2)}× first${cpuMs}\n`,
    );
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
