#!/usr/bin/env node
/**
 * Writes a valid, signed audit branch of any length in seconds, so the bench can time optout on
 * 10,000 (or 100,000) records without running the CLI that many times.
 *
 * Records are built with optout's own modules from dist/ (canonical JSON, SSHSIG signing with the
 * in-process ed25519 signer, the record path, the active index) and committed with one
 * `git fast-import` stream, in exactly the ledger's layout (docs/auditing.md): one commit per record, adding
 * `records/YYYY/MM/DD/<ULID>.json` and its `.sig` and rewriting `state/active.json`, with the
 * `optout: <type> <subject> <ULID>` subject and the Optout-Seq / Optout-Record trailers, seq
 * contiguous and prev chained. `optout log --verify` accepts the result (test/bench/make-ledger.test.ts).
 *
 * The records are what a busy team writes: skips on a handful of stages and refs, a third of them
 * reverted, one every `intervalMs` up to `end`, so the index stays small and old overrides expire.
 *
 *   node bench/make-ledger.mjs --git-dir remote.git --records 10000 --key ~/.ssh/id_ed25519
 */
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const stages = ["lint", "e2e"];
const refs = ["main", "release/1.x", "release/2.x", "hotfix/INC-4411", "renovate/node-22"];
const reasons = [
  "linter crashes on node 22, INC-4411",
  "flaky e2e — runner out of disk, see INC-4502",
  "vendor outage: registry returns 503, ticket OPS-118",
  "false positive on generated code; fix in #2291 (ünïcödé kept verbatim)",
];

/**
 * @param {object} o
 * @param {string} o.gitDir repository (bare or not) that receives the branch; it must not have it yet
 * @param {number} o.records how many records
 * @param {string} o.key unencrypted OpenSSH ed25519 private key (signs in process)
 * @param {string} [o.principal] allowed_signers principal of that key, also the actor's login
 * @param {string} [o.repo] the record's `repo`
 * @param {string} [o.namespace] SSHSIG namespace (policy audit.namespace)
 * @param {string} [o.branch] the audit branch
 * @param {number} [o.intervalMs] time between two records
 * @param {number} [o.end] time of the last record (ms since the epoch); default one minute ago
 * @param {string} [o.dist] optout's built modules to use; default this checkout's dist/
 */
export async function makeLedger(o) {
  const dist = o.dist ? pathToFileURL(`${o.dist}/`) : new URL("../dist/", import.meta.url);
  const load = (path) => import(new URL(path, dist).href);
  const [{ canonicalize }, { signSshsig }, { loadSigner }, { ulid }, record, store] = await Promise.all([
    load("ledger/canonical.js"),
    load("ledger/sshsig.js"),
    load("ledger/keys.js"),
    load("ledger/ulid.js"),
    load("core/record.js"),
    load("ledger/store.js"),
  ]);
  const count = o.records;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`records must be a positive integer`);
  const principal = o.principal ?? "alice";
  const repo = o.repo ?? "acme/shop";
  const namespace = o.namespace ?? "optout-audit";
  const branch = o.branch ?? "optout/audit";
  const interval = o.intervalMs ?? 10 * 60_000;
  const end = o.end ?? Date.now() - 60_000;
  const ref = `refs/heads/${branch}`;
  const exists = execFileSync("git", ["--git-dir", o.gitDir, "for-each-ref", ref], { encoding: "utf8" });
  if (exists.trim()) throw new Error(`${o.gitDir} already has ${ref}`);

  const signer = await loadSigner(o.key, {});
  const email = principal.includes("@") ? principal : `${principal}@optout.invalid`;
  const actor = { provider: "git", login: principal, id: principal };

  const child = spawn("git", ["--git-dir", o.gitDir, "fast-import", "--quiet"], {
    stdio: ["pipe", "ignore", "pipe"],
    env: { ...process.env, LC_ALL: "C" },
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const closed = once(child, "close");
  // fast-import reads faster than we sign, but a 100,000-record stream must not sit in memory.
  const write = async (chunk) => {
    if (!child.stdin.write(chunk)) await once(child.stdin, "drain");
  };
  const data = (bytes) => [Buffer.from(`data ${bytes.length}\n`), bytes, Buffer.from("\n")];

  await write(`reset ${ref}\n`);
  // What the writers would hold in force: a skip replaces the one on its target, a revert ends it.
  const active = new Map();
  let prev = null;
  let lastSkip;
  let last;
  for (let i = 0; i < count; i++) {
    const ms = end - (count - 1 - i) * interval;
    const time = new Date(ms).toISOString();
    const id = ulid(ms);
    // Two skips, then a revert of the second: index entries are superseded, reverted or expire.
    const revert = i % 3 === 2 && lastSkip;
    const target = revert
      ? lastSkip.target
      : { stage: stages[i % stages.length], ref: refs[i % refs.length], sha: null };
    const r = {
      id,
      op: "skip",
      actor,
      repo,
      target,
      reason: reasons[i % reasons.length],
      ticket: null,
      mechanism: "guard",
      before: revert ? { waived: true } : null,
      after: revert ? null : { waived: true },
      // An hour: within every stage's maxTtl in the test and bench policies.
      expiresAt: revert ? null : new Date(ms + 3_600_000).toISOString(),
      links: revert ? { reverts: lastSkip.id } : {},
      type: revert ? "revert" : "skip",
      outcome: "applied",
      v: 1,
      seq: i + 1,
      prev,
      time,
      signer: principal,
      tool: store.toolVersion,
    };
    const bytes = Buffer.from(canonicalize(r), "utf8");
    const sig = Buffer.from(await signSshsig(bytes, signer, namespace), "utf8");
    const path = store.recordPath(id).path;
    const key = `${r.target.stage}@${r.target.ref}`;
    if (revert) active.delete(key);
    else
      active.set(key, {
        id,
        type: "skip",
        op: "skip",
        target,
        mechanism: "guard",
        expiresAt: r.expiresAt,
        record: path,
        actor: principal,
        time,
      });
    const index = { v: 1, seq: r.seq, active: [...active.values()], pending: [], inflight: [] };
    const nominations = index.active
      .map(
        (e) =>
          `Optout-Active: ${JSON.stringify({ id: e.id, op: e.op, target: e.target, expiresAt: e.expiresAt, record: e.record })}\n`,
      )
      .join("");
    const message = `${record.recordSubject(r)}\n\n${nominations}Optout-Index: ${index.active.length}\nOptout-Seq: ${r.seq}\nOptout-Record: ${path}\n`;
    const who = `${principal} <${email}> ${Math.floor(ms / 1000)} +0000`;
    const parts = [
      Buffer.from(`commit ${ref}\nauthor ${who}\ncommitter ${who}\n`),
      ...data(Buffer.from(message, "utf8")),
      Buffer.from(`M 100644 inline ${path}\n`),
      ...data(bytes),
      Buffer.from(`M 100644 inline ${path}.sig\n`),
      ...data(sig),
      Buffer.from("M 100644 inline state/active.json\n"),
      ...data(Buffer.from(`${JSON.stringify(index, null, 1)}\n`, "utf8")),
    ];
    await write(Buffer.concat(parts));
    prev = store.sha256Ref(bytes);
    if (!revert) lastSkip = r;
    last = { id, path, seq: r.seq };
  }
  child.stdin.end();
  const [code] = await closed;
  if (code !== 0) throw new Error(`git fast-import failed (${code}): ${stderr.trim()}`);
  const tip = execFileSync("git", ["--git-dir", o.gitDir, "rev-parse", ref], { encoding: "utf8" }).trim();
  return { tip, records: count, last };
}

async function cli() {
  const { values } = parseArgs({
    options: {
      "git-dir": { type: "string" },
      records: { type: "string" },
      key: { type: "string" },
      principal: { type: "string" },
      repo: { type: "string" },
      namespace: { type: "string" },
      branch: { type: "string" },
      "interval-ms": { type: "string" },
    },
  });
  if (!values["git-dir"] || !values.records || !values.key) {
    process.stderr.write(
      "usage: node bench/make-ledger.mjs --git-dir <repo> --records <n> --key <ed25519 key> " +
        "[--principal alice] [--repo acme/shop] [--namespace optout-audit] [--branch optout/audit] [--interval-ms 600000]\n",
    );
    process.exit(2);
  }
  const started = performance.now();
  const r = await makeLedger({
    gitDir: values["git-dir"],
    records: Number(values.records),
    key: values.key,
    ...(values.principal ? { principal: values.principal } : {}),
    ...(values.repo ? { repo: values.repo } : {}),
    ...(values.namespace ? { namespace: values.namespace } : {}),
    ...(values.branch ? { branch: values.branch } : {}),
    ...(values["interval-ms"] ? { intervalMs: Number(values["interval-ms"]) } : {}),
  });
  const s = (performance.now() - started) / 1000;
  process.stdout.write(`wrote ${r.records} records in ${s.toFixed(1)} s; tip ${r.tip}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await cli();
