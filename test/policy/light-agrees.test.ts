/**
 * guard reads the policy without zod (src/policy/light.ts); every other command validates it with
 * the schema (src/policy/load.ts). The two must agree: whenever the light reader accepts a
 * document, the full loader accepts it too and gives guard the same answers (provider, repo, audit
 * branch, remote, allowed_signers, namespace, each stage's mechanism, who may skip it and its maxTtl). The
 * light reader may decline anything (the full loader then decides), but it must decline every
 * document the full loader refuses for a key guard reads. Checked on a table of edits of guard's
 * keys, and on seeded random combinations of them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Policy } from "../../src/core/policy.js";
import { loadPolicyLight } from "../../src/policy/light.js";
import { loadPolicy } from "../../src/policy/load.js";
import { repoRoot } from "../helpers/world.js";

type Doc = Record<string, unknown>;

const dir = mkdtempSync(path.join(os.tmpdir(), "optout-light-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What guard reads of a policy. */
function guardView(p: Policy) {
  return {
    provider: p.provider,
    repo: p.repo,
    audit: {
      branch: p.audit.branch,
      remote: p.audit.remote,
      allowedSigners: p.audit.allowedSigners,
      namespace: p.audit.namespace,
    },
    stages: Object.fromEntries(
      Object.values(p.stages).map((s) => [
        s.name,
        // maxTtl picks the skips guard reads as candidates.
        { mechanism: s.mechanism, allow: s.allow, maxTtlMs: s.maxTtlMs },
      ]),
    ),
  };
}

let n = 0;
/** Both readers on one document: light's view (undefined: declined) and full's (or its error). */
async function both(doc: unknown) {
  const file = path.join(dir, `p${n++}.json`);
  writeFileSync(file, JSON.stringify(doc));
  const light = loadPolicyLight({ cwd: dir, configPath: file });
  const full = await loadPolicy({ cwd: dir, configPath: file }).then(
    (p) => ({ ok: true as const, view: guardView(p) }),
    (e: Error) => ({ ok: false as const, error: e.message }),
  );
  return { light: light && guardView(light), full };
}

/**
 * `readsAll`: every edit made to the document touched a value the light reader reads. When one
 * did not (a key guard ignores), the schema may refuse what light accepted; the views must still
 * agree whenever both accept.
 */
async function expectAgreement(doc: unknown, what: string, readsAll = true) {
  const { light, full } = await both(doc);
  if (light === undefined) return "declined";
  if (!full.ok) {
    expect(readsAll, `${what}: light accepted what the schema refuses (${full.error})`).toBe(false);
    return "refused elsewhere";
  }
  expect(light, what).toEqual(full.view);
  return "agreed";
}

const example = JSON.parse(readFileSync(path.join(repoRoot, ".optoutrc.example.json"), "utf8")) as Doc;
const minimal: Doc = {
  version: 1,
  stages: { lint: { mechanism: "guard", allow: ["user:dana"] } },
};
const gitlab: Doc = {
  version: 1,
  provider: "gitlab",
  repo: "group/sub/project",
  audit: { branch: "ops/audit", remote: "upstream", allowedSigners: "keys/allowed", namespace: "ns" },
  groups: { ops: ["group:acme/ops", "user:root"] },
  stages: {
    lint: { mechanism: "variable", variable: "OPTOUT_SKIP_LINT", allow: ["ops"] },
    e2e: { mechanism: "guard", allow: ["ops", "role:maintainer"] },
  },
};

/**
 * Edits of a policy: name, whether the value edited is one the light reader reads, the edit. The
 * ones it does not read are there to show that it does not need to: guard decides under the
 * default branch's policy, which the full loader reads.
 */
const edits: [string, boolean, (d: Doc) => void][] = [
  [
    "version 2",
    true,
    (d) => {
      d.version = 2;
    },
  ],
  [
    "version as text",
    true,
    (d) => {
      d.version = "1";
    },
  ],
  [
    "no version",
    true,
    (d) => {
      delete d.version;
    },
  ],
  [
    "provider bitbucket",
    true,
    (d) => {
      d.provider = "bitbucket";
    },
  ],
  [
    "provider git",
    true,
    (d) => {
      d.provider = "git";
    },
  ],
  [
    "provider as a number",
    true,
    (d) => {
      d.provider = 3;
    },
  ],
  [
    "repo as a number",
    true,
    (d) => {
      d.repo = 42;
    },
  ],
  [
    "repo empty",
    true,
    (d) => {
      d.repo = "";
    },
  ],
  [
    "repo removed",
    true,
    (d) => {
      delete d.repo;
    },
  ],
  [
    "audit a list",
    true,
    (d) => {
      d.audit = [];
    },
  ],
  [
    "audit removed",
    true,
    (d) => {
      delete d.audit;
    },
  ],
  [
    "audit.branch empty",
    true,
    (d) => {
      audit(d).branch = "";
    },
  ],
  [
    "audit.branch an option",
    true,
    (d) => {
      audit(d).branch = "--upload-pack=x";
    },
  ],
  [
    "audit.branch with ..",
    true,
    (d) => {
      audit(d).branch = "a..b";
    },
  ],
  [
    "audit.branch a number",
    true,
    (d) => {
      audit(d).branch = 7;
    },
  ],
  [
    "audit.remote an option",
    true,
    (d) => {
      audit(d).remote = "-oProxyCommand=x";
    },
  ],
  [
    "audit.remote with a space",
    true,
    (d) => {
      audit(d).remote = "my remote";
    },
  ],
  [
    "audit.allowedSigners escaping",
    true,
    (d) => {
      audit(d).allowedSigners = "../../etc/passwd";
    },
  ],
  [
    "audit.allowedSigners absolute",
    true,
    (d) => {
      audit(d).allowedSigners = "/etc/ssh/allowed";
    },
  ],
  [
    "audit.namespace empty",
    true,
    (d) => {
      audit(d).namespace = "";
    },
  ],
  [
    "audit.namespace a list",
    true,
    (d) => {
      audit(d).namespace = ["x"];
    },
  ],
  [
    "stages a list",
    true,
    (d) => {
      d.stages = [];
    },
  ],
  [
    "stages removed",
    true,
    (d) => {
      delete d.stages;
    },
  ],
  [
    "a stage null",
    true,
    (d) => {
      stages(d).lint = null;
    },
  ],
  [
    "mechanism typo",
    true,
    (d) => {
      stage(d).mechanism = "gaurd";
    },
  ],
  [
    "mechanism removed",
    true,
    (d) => {
      delete stage(d).mechanism;
    },
  ],
  [
    "allow a string",
    true,
    (d) => {
      stage(d).allow = "user:dana";
    },
  ],
  [
    "allow empty",
    true,
    (d) => {
      stage(d).allow = [];
    },
  ],
  [
    "allow removed",
    true,
    (d) => {
      delete stage(d).allow;
    },
  ],
  [
    "allow a number",
    true,
    (d) => {
      stage(d).allow = [5];
    },
  ],
  [
    "allow user: with no login",
    true,
    (d) => {
      stage(d).allow = ["user:"];
    },
  ],
  [
    "allow an unknown kind",
    true,
    (d) => {
      stage(d).allow = ["robot:r2"];
    },
  ],
  [
    "allow an undefined group",
    true,
    (d) => {
      stage(d).allow = ["nobody"];
    },
  ],
  [
    "allow a team without slug",
    true,
    (d) => {
      stage(d).allow = ["team:acme"];
    },
  ],
  [
    "allow a team with two slashes",
    true,
    (d) => {
      stage(d).allow = ["team:acme/a/b"];
    },
  ],
  [
    "allow a group in a group",
    true,
    (d) => {
      d.groups = { a: ["b"], b: ["user:x"] };
      stage(d).allow = ["a"];
    },
  ],
  [
    "groups a list",
    true,
    (d) => {
      d.groups = [];
    },
  ],
  [
    "group member a number",
    true,
    (d) => {
      d.groups = { g: [1] };
      stage(d).allow = ["g"];
    },
  ],
  [
    "status on git",
    true,
    (d) => {
      d.provider = "git";
      stage(d).mechanism = "status";
    },
  ],
  [
    "variable without a name",
    false,
    (d) => {
      stage(d).mechanism = "variable";
      delete stage(d).variable;
    },
  ],
  [
    "status without a context",
    false,
    (d) => {
      stage(d).mechanism = "status";
      delete stage(d).context;
    },
  ],
  [
    "team on gitlab",
    true,
    (d) => {
      d.provider = "gitlab";
      stage(d).allow = ["team:acme/ops"];
    },
  ],
  [
    "group on github",
    true,
    (d) => {
      d.provider = "github";
      stage(d).allow = ["group:acme/ops"];
    },
  ],
  [
    "an unknown key at the top",
    false,
    (d) => {
      d.stagse = {};
    },
  ],
  [
    "an unknown key in a stage",
    false,
    (d) => {
      stage(d).alow = ["user:x"];
    },
  ],
  [
    "an unknown key in audit",
    false,
    (d) => {
      audit(d).brnach = "x";
    },
  ],
  [
    "a stage name with a space",
    true,
    (d) => (stages(d)["two words"] = { mechanism: "guard", allow: ["user:x"] }),
  ],
];

function audit(d: Doc): Doc {
  if (typeof d.audit !== "object" || d.audit === null || Array.isArray(d.audit)) d.audit = {};
  return d.audit as Doc;
}
function stages(d: Doc): Doc {
  if (typeof d.stages !== "object" || d.stages === null || Array.isArray(d.stages)) d.stages = {};
  return d.stages as Doc;
}
/** The first stage (made when there is none). */
function stage(d: Doc): Doc {
  const all = stages(d);
  const first = Object.keys(all)[0] ?? "lint";
  if (typeof all[first] !== "object" || all[first] === null)
    all[first] = { mechanism: "guard", allow: ["user:x"] };
  return all[first] as Doc;
}

const bases: [string, Doc][] = [
  ["the shipped example", example],
  ["a minimal git policy", minimal],
  ["a GitLab policy with groups", gitlab],
];

/** A small seeded generator (mulberry32): the same documents on every run. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("policy/light.ts agrees with the schema", () => {
  it("reads every valid base itself (guard's fast path is taken) and agrees with the schema", async () => {
    for (const [name, doc] of bases) expect(await expectAgreement(doc, name), name).toBe("agreed");
  });

  it("on each edit: declines, or agrees (refused only for a key light does not read)", async () => {
    for (const [base, doc] of bases) {
      for (const [what, reads, edit] of edits) {
        const d = structuredClone(doc);
        edit(d);
        await expectAgreement(d, `${base}, ${what}`, reads);
      }
    }
  });

  it("on seeded random combinations of edits", async () => {
    const next = random(19);
    for (let i = 0; i < 150; i++) {
      const [base, doc] = bases[Math.floor(next() * bases.length)]!;
      const d = structuredClone(doc);
      const applied: string[] = [];
      let readsAll = true;
      for (let k = 1 + Math.floor(next() * 3); k > 0; k--) {
        const [what, reads, edit] = edits[Math.floor(next() * edits.length)]!;
        edit(d);
        applied.push(what);
        readsAll &&= reads;
      }
      await expectAgreement(d, `${base}: ${applied.join(", ")}`, readsAll);
    }
  });

  it("declines every malformed JSON policy of the corpus", () => {
    const bad = path.join(repoRoot, "test/fixtures/policies/bad");
    for (const file of [
      "mechanism-typo.json",
      "status-on-git.json",
      "team-on-gitlab.json",
      "undefined-group.json",
      "group-in-group.json",
      "unknown-principal-kind.json",
      "version-2.json",
      "version-missing.json",
      "remote-option-injection.json",
      "signers-path-escape.json",
      "bad-team.json",
      "role-unknown.json",
    ])
      expect(loadPolicyLight({ cwd: repoRoot, configPath: path.join(bad, file) }), file).toBeUndefined();
  });
});
