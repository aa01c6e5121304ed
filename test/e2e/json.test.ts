/**
 * Every command's --json against its published schema (docs/json/*.schema.json, docs/json.md):
 * the real CLI in a real world (bare remote, keys, a rollout command, a webhook receiver), each
 * document validated with ajv. The schemas are strict (required fields, no unknown properties),
 * so a command that changes its shape fails here until the schema and docs/json.md say so.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basePolicy, makeWorld, type RunResult, repoRoot, runCli, type World } from "../helpers/world.js";
import { freshRepo } from "../init/fresh.js";
import { receiver } from "../notify/receiver.js";

// ajv-formats is CommonJS: under NodeNext its default import is module.exports; the plugin is `.default`.
const addFormats = formats.default;
const dir = join(repoRoot, "docs", "json");
const base = "https://github.com/optout-dev/optout/blob/main/docs/json/";
const files = readdirSync(dir).filter((f) => f.endsWith(".schema.json"));
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
for (const f of files) ajv.addSchema(JSON.parse(readFileSync(join(dir, f), "utf8")));

const used = new Set<string>();

/** The errors `schema` finds in `doc` (none: it conforms). */
function problems(schema: string, doc: unknown): unknown[] {
  const validate = ajv.getSchema(`${base}${schema}.schema.json`);
  if (!validate) throw new Error(`no schema ${schema}`);
  return validate(doc) ? [] : (validate.errors ?? ["invalid"]);
}

/** stdout is exactly one JSON document, of the shape `schema` publishes, and the exit code is `code`. */
function conforms(schema: string, r: RunResult, code = 0): Record<string, unknown> {
  expect(r.code, `${schema}: ${r.stderr}`).toBe(code);
  const doc = JSON.parse(r.stdout);
  expect(problems(schema, doc), `${schema}: ${r.stdout.slice(0, 2000)}`).toEqual([]);
  used.add(schema);
  return doc;
}

const reason = "incident INC-4411: checkout is down";
const art = (c: string) => `registry.example/shop@sha256:${c.repeat(64)}`;
const deploy = `process.exit(process.env.DEPLOY_FAIL ? 3 : 0);`;

let w: World;
let scripts: string;
let hook: Awaited<ReturnType<typeof receiver>>;
const j = (person: string, args: string[], env: Record<string, string> = {}) =>
  w.run(person, [...args, "--json"], { env });

beforeAll(async () => {
  scripts = await mkdtemp(join(tmpdir(), "optout-json-"));
  await writeFile(join(scripts, "deploy.mjs"), deploy);
  // The first announcement fails (three attempts), so it is kept for `sync`; then it works.
  hook = await receiver([{ status: 503 }, { status: 503 }, { status: 503 }, { status: 200 }]);
  const command = (arg: string) => [process.execPath, join(scripts, "deploy.mjs"), arg];
  w = await makeWorld({
    people: ["alice", "bob", "carol"],
    policy: basePolicy({
      groups: { oncall: ["user:alice", "user:bob"], approvers: ["user:bob", "user:carol"] },
      flags: {
        DEPLOY_FREEZE_BYPASS: {
          values: ["true", "false"],
          environments: ["staging", "production"],
          allow: ["oncall"],
          ttl: "2h",
        },
        RISKY: { values: ["on"], allow: ["oncall"], approvals: { required: 1, from: ["approvers"] } },
      },
      rollout: {
        command: command("{artifact}"),
        environments: ["staging"],
        artifact: { pattern: "^registry\\.example/shop@sha256:[0-9a-f]{64}$" },
        allow: ["oncall"],
      },
      failover: { targets: ["us-east-1", "eu-west-1"], command: command("{target}"), allow: ["oncall"] },
      review: { allow: ["oncall", "user:carol"], required: true, within: "1h" },
      notify: [{ type: "webhook", url: `${hook.url}/hook` }],
    }),
  });
});
afterAll(async () => {
  await w.cleanup();
  await hook.close();
  await rm(scripts, { recursive: true, force: true });
});

describe("--json matches docs/json", () => {
  it("help, --version and completion", async () => {
    const v = conforms("version", await j("alice", ["--version"]));
    expect(v.version).toMatch(/^\d+\.\d+\.\d+/);
    conforms("help", await j("alice", ["help"]));
    conforms("help", await j("alice", ["--help"]));
    conforms("help", await j("alice", ["help", "skip"]));
    conforms("help", await j("alice", ["flag", "set", "--help"]));
    conforms("help", await j("alice", ["help", "exit-codes"]));
    conforms("help", await j("alice", ["help", "environment"]));
    for (const shell of ["bash", "zsh", "fish"])
      conforms("completion", await j("alice", ["completion", shell]));
  });

  it("overrides and everything that reads them", async () => {
    conforms("operation", await j("alice", ["skip", "lint", "--reason", reason, "--dry-run"]));
    // The webhook fails: the skip is done, its announcement kept (exit 5).
    const skip = conforms("operation", await j("alice", ["skip", "lint", "--reason", reason]), 5);
    expect((skip.notifications as { status: string }[])[0]!.status).toBe("failed");
    const synced = conforms("sync", await j("alice", ["sync"]));
    expect(synced.notifications).toMatchObject([{ id: skip.id, status: "sent" }]);
    conforms("sync", await j("alice", ["sync", "--dry-run"]));

    conforms("guard", await j("bob", ["guard", "lint"]));
    const run = conforms("guard", await j("bob", ["guard", "e2e"]), 1);
    expect(run.decision).toBe("run");

    const flag = conforms(
      "operation",
      await j("alice", [
        "flag",
        "set",
        "DEPLOY_FREEZE_BYPASS",
        "true",
        "--env",
        "staging",
        "--reason",
        reason,
      ]),
    );
    conforms("flag-get", await j("bob", ["flag", "get", "DEPLOY_FREEZE_BYPASS", "--env", "staging"]));
    conforms("flag-get", await j("bob", ["flag", "get", "DEPLOY_FREEZE_BYPASS", "--env", "production"]), 1);
    const list = conforms("flag-list", await j("bob", ["flag", "list"]));
    expect(list.flags).toContainEqual({ flag: "DEPLOY_FREEZE_BYPASS", env: "staging", value: "true" });
    conforms(
      "operation",
      await j("bob", ["flag", "unset", "DEPLOY_FREEZE_BYPASS", "--env", "staging", "--reason", reason]),
    );

    // A request awaits approval (exit 4): the error names it; one is rejected, one approved.
    const asked = conforms("error", await j("alice", ["flag", "set", "RISKY", "on", "--reason", reason]), 4);
    expect(asked).toMatchObject({ status: "pending", approve: `optout approve ${asked.id}` });
    conforms("reject", await j("bob", ["reject", String(asked.id), "--reason", "not needed after all"]));
    const again = conforms("error", await j("alice", ["flag", "set", "RISKY", "on", "--reason", reason]), 4);
    const approved = conforms("operation", await j("carol", ["approve", String(again.id)]));
    expect(approved.status).toBe("applied");

    conforms(
      "operation",
      await j("alice", [
        "rollout",
        "--artifact",
        art("a"),
        "--env",
        "staging",
        "--reason",
        reason,
        "--dry-run",
      ]),
    );
    conforms(
      "operation",
      await j("alice", ["rollout", "--artifact", art("a"), "--env", "staging", "--reason", reason]),
    );
    // A command that fails: the error still says which intent and result were recorded.
    const failed = conforms(
      "error",
      await j("alice", ["rollout", "--artifact", art("b"), "--env", "staging", "--reason", reason], {
        DEPLOY_FAIL: "1",
      }),
      1,
    );
    expect(failed).toMatchObject({ status: "failed", result: { outcome: "failed" } });
    const rollback = conforms(
      "operation",
      await j("alice", ["rollout", "--artifact", art("c"), "--env", "staging", "--reason", reason]),
    );

    conforms("operation", await j("bob", ["failover", "--to", "eu-west-1", "--reason", reason]));
    conforms("failover-show", await j("bob", ["failover", "--show"]));

    const status = conforms("status", await j("bob", ["status"]));
    expect((status.active as unknown[]).length).toBeGreaterThanOrEqual(3);
    const log = conforms("log", await j("bob", ["log"]));
    expect((log.records as unknown[]).length).toBeGreaterThan(10);
    conforms("log", await j("bob", ["log", "--type", "skip", "--limit", "1"]));
    conforms("log", await j("bob", ["log", "--unreviewed"]));
    conforms("log-verify", await j("bob", ["log", "--verify"]));

    conforms(
      "review",
      await j("carol", [
        "review",
        String(skip.id),
        "--verdict",
        "justified",
        "--note",
        "the linter was broken upstream",
        "--dry-run",
      ]),
    );
    conforms(
      "review",
      await j("carol", [
        "review",
        String(skip.id),
        "--verdict",
        "justified",
        "--note",
        "the linter was broken upstream",
      ]),
    );
    conforms("report", await j("bob", ["report"]));
    conforms("report", await j("bob", ["report", "--by", "stage"]));

    conforms(
      "operation",
      await j("alice", ["revert", String(rollback.id), "--reason", "the old one was fine after all"]),
    );
    expect(flag.revert).toBe(`optout revert ${flag.id}`);
    // Some forty commands in a row: a generous bound for a shared machine, not a speed check.
  }, 300_000);

  it("doctor, auth, policy check and notify test", async () => {
    conforms("doctor", await j("alice", ["doctor"]));
    conforms("auth-status", await j("alice", ["auth", "status"]));
    conforms("policy-check", await j("alice", ["policy", "check"]));
    await writeFile(join(w.dir, "bad.json"), `${JSON.stringify({ version: 1, stages: { lint: {} } })}\n`);
    const bad = conforms(
      "policy-check",
      await j("alice", ["policy", "check", "--config", join(w.dir, "bad.json")]),
      2,
    );
    expect(bad.valid).toBe(false);
    conforms("notify-test", await j("alice", ["notify", "test"]));
    conforms("notify-test", await j("alice", ["notify", "test", "--dry-run"]));
  });

  it("init", async () => {
    const r = await freshRepo();
    try {
      conforms("init", await r.init("--yes", "--provider", "git", "--dry-run", "--json"));
      conforms("init", await r.init("--yes", "--provider", "git", "--json"));
    } finally {
      await r.cleanup();
    }
  });

  it("errors: one document with the exit code of the condition", async () => {
    const unknown = conforms("error", await j("alice", ["frobnicate"]), 2);
    expect(unknown.error).toMatchObject({
      message: "unknown command 'frobnicate'",
      hint: expect.stringMatching(/--help/),
    });
    conforms("error", await j("alice", ["skip", "nope", "--reason", reason]), 2);
    conforms("error", await j("carol", ["skip", "lint", "--reason", reason]), 3);
    conforms("error", await j("bob", ["approve", "01JXXXXXXXXXXXXXXXXXXXXXXX"]), 2);
    conforms(
      "error",
      await j("alice", ["skip", "lint", "--reason", reason], { OPTOUT_SIGNING_KEY: "/nonexistent/key" }),
      2,
    );
    const nowhere = await mkdtemp(join(tmpdir(), "optout-nowhere-"));
    try {
      conforms("error", await runCli(["status", "--json"], { cwd: nowhere, env: w.env("alice") }), 2);
    } finally {
      await rm(nowhere, { recursive: true, force: true });
    }
  });

  it("a record kept locally (exit 5), then pushed by sync", async () => {
    await rename(w.remote, `${w.remote}.away`);
    let kept: Record<string, unknown>;
    try {
      kept = conforms(
        "error",
        await j("alice", ["skip", "e2e", "--reason", reason], { OPTOUT_APPEND_TIMEOUT_MS: "1500" }),
        5,
      );
      expect(kept).toMatchObject({ status: "queued", type: "skip", error: { code: 5 } });
      expect(conforms("status", await j("alice", ["status"])).queued).toMatchObject([{ id: kept.id }]);
    } finally {
      await rename(`${w.remote}.away`, w.remote);
    }
    const sync = conforms("sync", await j("alice", ["sync"]));
    expect(sync.pushed).toEqual([kept.id]);
    // Ninety minutes on, that skip is still in force but its review (due within 1h) is overdue.
    const soon = { OPTOUT_NOW: new Date(Date.now() + 90 * 60_000).toISOString() };
    const strict = conforms("guard", await j("bob", ["guard", "e2e", "--strict"], soon), 1);
    expect(strict).toMatchObject({ decision: "run", overdueReviews: [{ id: kept.id }] });
  });

  it("expire, two days later (last: the ledger then holds records from then)", async () => {
    // A request nobody approves in time: expire closes it too.
    const waiting = conforms(
      "error",
      await j("alice", ["flag", "set", "RISKY", "on", "--reason", reason]),
      4,
    );
    // The TTLs and the request's 24h have run out by then: expire ends them (a dry run first).
    const later = { OPTOUT_NOW: new Date(Date.now() + 2 * 86_400_000).toISOString() };
    conforms("expire", await j("bob", ["expire", "--dry-run"], later));
    const expired = conforms("expire", await j("bob", ["expire"], later));
    expect((expired.expired as unknown[]).length).toBeGreaterThan(0);
    expect(expired.requests).toEqual([{ id: waiting.id, status: "applied", closedBy: expect.any(String) }]);
    // By then the reviews are overdue, too.
    const status = conforms("status", await j("bob", ["status"], later));
    expect((status.reviews as { overdue: unknown[] }).overdue.length).toBeGreaterThan(0);
    expect(expired.expired).toContainEqual(
      expect.objectContaining({ record: expect.objectContaining({ type: "expire" }) }),
    );
  });

  it("every published schema is exercised above", () => {
    expect([...used, "defs"].sort()).toEqual(files.map((f) => f.replace(/\.schema\.json$/, "")).sort());
  });
});

describe("the schemas are strict", () => {
  const record = {
    v: 1,
    id: "01JBZ3K4V7QW8XYZ2ABCDEFGHJ",
    seq: 1,
    prev: null,
    time: "2026-12-08T00:00:00.000Z",
    type: "skip",
    op: "skip",
    actor: { provider: "git", login: "alice", id: "alice" },
    signer: "alice",
    repo: "acme/shop",
    target: { stage: "lint", ref: "main", sha: null },
    reason: reason,
    ticket: null,
    mechanism: "guard",
    before: null,
    after: { waived: true },
    expiresAt: null,
    links: {},
    outcome: "applied",
    tool: "optout/0.1.0",
  };

  it("accept the right shape and refuse a list at the top, a missing field or an unknown one", () => {
    expect(problems("log", { records: [record] })).toEqual([]);
    expect(problems("log", [record])).not.toEqual([]);
    const { seq: _seq, ...unsequenced } = record;
    expect(problems("log", { records: [unsequenced] })).not.toEqual([]);
    expect(problems("log", { records: [{ ...record, extra: 1 }] })).not.toEqual([]);
    expect(problems("log", { records: [{ ...record, id: "not-an-id" }] })).not.toEqual([]);
    expect(problems("error", { error: { code: 2, message: "x" } })).toEqual([]);
    expect(problems("error", { error: { code: 7, message: "x" } })).not.toEqual([]);
    expect(problems("error", { message: "x" })).not.toEqual([]);
    const op = {
      id: record.id,
      type: "skip",
      status: "applied",
      record,
      plan: ["will waive stage lint"],
      revert: `optout revert ${record.id}`,
      expiresAt: null,
      notifications: [],
    };
    expect(problems("operation", op)).toEqual([]);
    expect(problems("operation", { ...op, record: record.id })).not.toEqual([]);
    expect(problems("operation", { ...op, status: "done" })).not.toEqual([]);
  });
});
