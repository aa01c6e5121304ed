#!/usr/bin/env node
// The quick start: runs optout for real on its embedded default, the plain-git provider, in a
// throwaway repository with a local bare remote and a freshly generated signing key. Each step
// prints the command and what it did. Nothing outside the temp folder is touched.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const cli = resolve(import.meta.dirname, "..", "bin", "optout.js");
const dir = mkdtempSync(join(tmpdir(), "optout-demo-"));
const keep = process.argv.includes("--keep");
const bold = (s) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[0m` : s);

function sh(cwd, cmd, args) {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

const env = {
  ...process.env,
  HOME: join(dir, "home"),
  OPTOUT_SIGNING_KEY: join(dir, "home", ".ssh", "id_ed25519"),
  CI: "",
  FORCE_COLOR: "0",
};

let surprises = 0;

function optout(cwd, args, note, expect = 0) {
  console.log(`\n${bold(`$ optout ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(" ")}`)}`);
  if (note) console.log(`  # ${note}`);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, env, encoding: "utf8" });
  const out = `${r.stdout}${r.stderr}`.trimEnd();
  if (out) console.log(out.replace(/^/gm, "  "));
  console.log(`  → exit ${r.status}`);
  if (r.status !== expect) {
    surprises++;
    console.log(`  !! expected exit ${expect}`);
  }
  return r;
}

try {
  console.log(`optout demo in ${dir}`);
  mkdirSync(join(dir, "home", ".ssh"), { recursive: true });
  sh(dir, "ssh-keygen", [
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-C",
    "dana@example.com",
    "-f",
    env.OPTOUT_SIGNING_KEY,
  ]);
  const pub = sh(dir, "ssh-keygen", ["-y", "-f", env.OPTOUT_SIGNING_KEY]);
  console.log("• generated an ed25519 signing key for dana@example.com");

  const remote = join(dir, "remote.git");
  sh(dir, "git", ["init", "-q", "--bare", "-b", "main", remote]);
  const seed = join(dir, "seed");
  sh(dir, "git", ["init", "-q", "-b", "main", seed]);
  mkdirSync(join(seed, ".optout"));
  writeFileSync(join(seed, ".optout", "allowed_signers"), `dana@example.com ${pub}\n`);
  const policy = {
    $schema: "https://unpkg.com/optout/schema/optoutrc.schema.json",
    version: 1,
    provider: "git",
    repo: "acme/shop",
    defaults: { ttl: "4h", maxTtl: "24h", reason: { minLength: 15 } },
    groups: { oncall: ["user:dana@example.com"] },
    stages: { lint: { mechanism: "guard", allow: ["oncall"] } },
  };
  writeFileSync(join(seed, ".optoutrc.json"), `${JSON.stringify(policy, null, 2)}\n`);
  for (const [k, v] of [
    ["user.name", "Demo Maintainer"],
    ["user.email", "maintainer@example.com"],
  ]) {
    sh(seed, "git", ["config", k, v]);
  }
  sh(seed, "git", ["add", "-A"]);
  sh(seed, "git", ["commit", "-q", "-m", "Add optout policy and allowed signers"]);
  sh(seed, "git", ["remote", "add", "origin", remote]);
  sh(seed, "git", ["push", "-q", "origin", "main"]);
  const work = join(dir, "work");
  sh(dir, "git", ["clone", "-q", remote, work]);
  console.log(
    "• created a bare remote with .optoutrc.json and .optout/allowed_signers on main, and a clone of it",
  );

  optout(work, ["policy", "check"], "the policy is valid");
  optout(work, ["guard", "lint"], "no override yet: the lint stage runs (exit 1)", 1);
  const skip = optout(
    work,
    ["skip", "lint", "--reason", "linter crashes on node 22, INC-4411", "--ttl", "2h", "--yes", "--json"],
    "waive lint on main for 2h: a signed record is pushed to optout/audit",
  );
  const id = JSON.parse(skip.stdout).id;
  optout(work, ["guard", "lint"], "a pipeline job asks: skip (exit 0)");
  optout(work, ["status"], "what is in force");
  optout(work, ["log"], "the ledger, newest first");
  optout(work, ["log", "--verify"], "every signature, the hash chain and the history check out");

  // An auditor needs no optout: stock ssh-keygen verifies a record.
  const audit = join(dir, "audit");
  sh(dir, "git", ["clone", "-q", "--branch", "optout/audit", remote, audit]);
  const day = readdirSync(join(audit, "records"), { recursive: true }).find((p) =>
    String(p).endsWith(".json"),
  );
  const file = join(audit, "records", String(day));
  const v = spawnSync(
    "ssh-keygen",
    [
      "-Y",
      "verify",
      "-f",
      join(seed, ".optout", "allowed_signers"),
      "-I",
      "dana@example.com",
      "-n",
      "optout-audit",
      "-s",
      `${file}.sig`,
    ],
    { input: readFileSync(file), encoding: "utf8" },
  );
  console.log(
    `\n${bold("$ ssh-keygen -Y verify -f allowed_signers -I dana@example.com -n optout-audit -s <record>.json.sig < <record>.json")}`,
  );
  console.log(`  ${(v.stdout + v.stderr).trim()}\n  → exit ${v.status}`);
  if (v.status !== 0) surprises++;

  optout(work, ["revert", id, "--reason", "linter fixed upstream", "--yes"], "undo it");
  optout(work, ["guard", "lint"], "the stage runs again (exit 1)", 1);
  optout(work, ["log", "--verify"], "two records, still intact");
  console.log(
    `\n${surprises ? `${surprises} step(s) did not do what they should.` : "Done: every step did what it should."}${keep ? ` Kept ${dir}` : ""}`,
  );
  process.exitCode = surprises ? 1 : 0;
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
