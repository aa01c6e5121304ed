#!/usr/bin/env node
/**
 * Writes what docs/ and examples/ must not state by hand, from the built code (`npm run build`
 * first): the policy reference from the JSON Schema (itself generated from the zod schema), the
 * command reference from the commander tree, the exit codes and environment variables, and the
 * pipeline files `optout init` renders. Hand-written prose stays; only the text between
 * `<!-- generated:NAME:begin -->` and `<!-- generated:NAME:end -->` markers is replaced.
 * test/docs/generated.test.ts renders in memory and fails when a file on disk differs.
 *
 *   node scripts/gen-docs.mjs          write what changed
 *   node scripts/gen-docs.mjs --check  exit 1 naming stale files, write nothing
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url).href);

const cell = (s) =>
  String(s ?? "")
    .replaceAll("|", "\\|")
    .replaceAll("\n", " ");
const code = (s) => `\`${String(s).replaceAll("|", "\\|")}\``;

function table(head, rows) {
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

// ── policy reference ────────────────────────────────────────────────────────────────────────────

/** Placeholder for a record's key, by the record's path. */
const keyNames = { groups: "<group>", stages: "<stage>", flags: "<FLAG>", signers: "<login>" };

/**
 * Words for keys whose schema has no description yet, by the key's last segment. The schema's
 * own description always wins; add `.meta({ description })` in src/policy/schema.ts to replace these.
 */
const fallbackMeaning = {
  github: "GitHub settings",
  gitlab: "GitLab settings",
  branch: "Branch holding the ledger; written with git plumbing, never checked out",
  remote: "Remote the ledger is fetched from and pushed to",
  allowedSigners: "Path of the allowed_signers file, read from the remote's default branch only",
  namespace: "SSH signature namespace of ledger records (`ssh-keygen -Y verify -n`)",
  signCommits: "Also SSH-sign each ledger commit (namespace git), for `git verify-commit`",
  reason: "Rules for --reason",
  ticket: "Rules for --ticket",
  artifact: "Rules for --artifact",
  description: "Free text for people reading the policy",
  environments: "Environments it applies to (--env)",
  url: "Where the JSON POST goes (http or https)",
};

function typeOf(s) {
  if (s.const !== undefined) return code(JSON.stringify(s.const));
  if (s.enum) return s.enum.map((v) => code(JSON.stringify(v))).join(" \\| ");
  if (s.type === "array") return s.items?.type ? `${s.items.type}[]` : "array";
  if (s.type === "integer") return "integer";
  if (s.type === "object" && s.additionalProperties && typeof s.additionalProperties === "object") {
    const v = s.additionalProperties;
    return `object of ${v.type === "array" ? `${v.items?.type ?? ""}[]` : v.type === "object" ? "objects" : v.type}`;
  }
  return s.type ?? "";
}

function policyRows(s, path, required, rows) {
  const def =
    s.default !== undefined && !(typeof s.default === "object" && Object.keys(s.default).length === 0);
  rows.push([
    code(path),
    typeOf(s),
    required ? "yes" : "",
    def ? code(JSON.stringify(s.default)) : "",
    cell(s.description ?? fallbackMeaning[path.split(".").at(-1)] ?? ""),
  ]);
  walkPolicy(s, path, rows);
}

function walkPolicy(s, path, rows) {
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    policyRows(v, path ? `${path}.${k}` : k, (s.required ?? []).includes(k), rows);
  }
  const rec = s.additionalProperties;
  if (rec && typeof rec === "object" && (rec.properties || rec.oneOf)) {
    walkPolicy(rec, `${path}.${keyNames[path] ?? "<name>"}`, rows);
  }
  const item = s.type === "array" ? s.items : undefined;
  for (const variant of item?.oneOf ?? []) {
    const kind = variant.properties?.type?.const;
    for (const [k, v] of Object.entries(variant.properties ?? {})) {
      if (k === "type") continue;
      policyRows(v, `${path}[] (type ${kind}).${k}`, (variant.required ?? []).includes(k), rows);
    }
  }
}

async function policyReference() {
  const { policyJsonSchema } = await dist("policy/json-schema.js");
  const schema = policyJsonSchema();
  const out = [];
  for (const [key, s] of Object.entries(schema.properties)) {
    const rows = [];
    policyRows(s, key, (schema.required ?? []).includes(key), rows);
    out.push(`### ${code(key)}`, "", table(["key", "type", "required", "default", "meaning"], rows), "");
  }
  return out.join("\n").trimEnd();
}

// ── command reference ───────────────────────────────────────────────────────────────────────────

function optionRows(cmd) {
  return cmd.options
    .filter((o) => !o.hidden)
    .map((o) => {
      const notes = [
        o.argChoices ? `one of ${o.argChoices.map(code).join(", ")}` : "",
        o.defaultValue !== undefined && !o.negate ? `default ${code(o.defaultValue)}` : "",
      ].filter(Boolean);
      return [code(o.flags), cell([o.description, ...notes].filter(Boolean).join("; "))];
    });
}

function commandSections(cmd, prefix, out) {
  for (const sub of cmd.commands) {
    const name = `${prefix} ${sub.name()}`;
    const args = sub.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`));
    if (sub.commands.length && !sub.registeredArguments.length && !sub.options.length) {
      out.push(`### ${code(name)}`, "", sub.description(), "");
      commandSections(sub, name, out);
      continue;
    }
    out.push(`### ${code([name, ...args].join(" "))}`, "", sub.description(), "");
    const rows = optionRows(sub);
    if (rows.length) out.push(table(["option", "meaning"], rows), "");
    commandSections(sub, name, out);
  }
}

async function commandReference() {
  const { buildProgram } = await dist("cli/program.js");
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const program = buildProgram(version, async () => {
    throw new Error("gen-docs only reads the command tree");
  });
  const out = [
    "## Global options",
    "",
    "Every command takes these.",
    "",
    table(["option", "meaning"], optionRows(program)),
    "",
    "## Commands",
    "",
  ];
  commandSections(program, "optout", out);
  return out.join("\n").trimEnd();
}

async function exitCodes() {
  const { exitCodeTable } = await dist("errors.js");
  return table(
    ["code", "meaning"],
    exitCodeTable.map(([c, t]) => [String(c), cell(t)]),
  );
}

async function environment() {
  const { environment: env } = await dist("cli/topics.js");
  return table(
    ["variable", "meaning"],
    env.map(([k, v]) => [k.split(", ").map(code).join(", "), cell(v)]),
  );
}

// ── pipeline files ──────────────────────────────────────────────────────────────────────────────

async function pipelines() {
  const t = await dist("scaffold/templates/index.js");
  const gh = await dist("scaffold/templates/github.js");
  const gl = await dist("scaffold/templates/gitlab.js");
  const sh = await dist("scaffold/templates/shell.js");
  const { policyText } = await dist("scaffold/policy.js");
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const input = (ci) => {
    const a = t.exampleAnswers(ci);
    return { provider: a.provider, stages: a.stages, version };
  };
  const files = {
    "examples/any-ci/.optoutrc.json": policyText(t.exampleAnswers("any")),
    "examples/any-ci/.optout/guard.sh": sh.guardScript(),
    "examples/github/.optoutrc.json": t.examplePolicy("github"),
    "examples/github/.github/workflows/ci.yml": gh.guardWorkflow(input("github")),
    "examples/github/.github/workflows/optout-expire.yml": gh.expireWorkflow(input("github")),
    "examples/github/.github/workflows/optout-deploy.yml": gh.deployWorkflow(),
    "examples/github/.github/workflows/optout-failover.yml": gh.failoverWorkflow(),
    "examples/gitlab/.optoutrc.json": t.examplePolicy("gitlab"),
    "examples/gitlab/.gitlab-ci.yml": `${gl.gitlabCi(input("gitlab"))}\n${gl.gitlabFailoverJob()}`,
    [`examples/gitlab/${gl.GITLAB_ROLLOUT_PATH}`]: gl.gitlabRollout(),
    // optout's own GitLab CI/CD components, at the root of this repository
    [gl.GITLAB_COMPONENTS.guard]: gl.guardComponent(version),
    [gl.GITLAB_COMPONENTS.expire]: gl.expireComponent(version),
  };
  const block = (lang, text) => `\`\`\`${lang}\n${text.trimEnd()}\n\`\`\``;
  const regions = {
    "guard-sh": block("sh", sh.guardScript()),
    "any-ci-usage": block("sh", sh.shellUsage(input("any"))),
    "github-ci": block("yaml", gh.guardWorkflow(input("github"))),
    "github-expire": block("yaml", gh.expireWorkflow(input("github"))),
    "github-deploy": block("yaml", gh.deployWorkflow()),
    "gitlab-guard": block("yaml", gl.guardComponent(version)),
    "gitlab-expire": block("yaml", gl.expireComponent(version)),
    "gitlab-ci": block("yaml", gl.gitlabCi(input("gitlab"))),
    "gitlab-rollout": block("yaml", gl.gitlabRollout()),
  };
  return { files, regions };
}

// ── assembling ──────────────────────────────────────────────────────────────────────────────────

/** Replaces each generated region of `text`; a marker pair that is missing is an error. */
export function fill(text, regions, file) {
  let out = text;
  for (const [name, body] of Object.entries(regions)) {
    const begin = `<!-- generated:${name}:begin -->`;
    const end = `<!-- generated:${name}:end -->`;
    const i = out.indexOf(begin);
    const j = out.indexOf(end);
    if (i < 0 || j < i) throw new Error(`${file}: no ${begin} … ${end} markers`);
    out = `${out.slice(0, i + begin.length)}\n${body}\n${out.slice(j)}`;
  }
  return out;
}

/**
 * Markdown as the project's formatter writes it (Biome aligns tables), so `npm run lint` and this
 * script agree on every byte. A path Biome ignores comes back empty: keep the text then.
 */
function formatMarkdown(file, text) {
  const biome = join(root, "node_modules", ".bin", "biome");
  const r = spawnSync(biome, ["format", `--stdin-file-path=${file}`], {
    cwd: root,
    input: text,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`biome could not format ${file}: ${r.stderr}`);
  return r.stdout || text;
}

/** Every generated file: path (relative to the project root) → its full expected content. */
export async function render() {
  const { files, regions } = await pipelines();
  const docs = {
    "docs/policy.md": { "policy-reference": await policyReference() },
    "docs/commands.md": {
      commands: await commandReference(),
      "exit-codes": await exitCodes(),
      environment: await environment(),
    },
    "docs/pipelines.md": regions,
    "README.md": { "exit-codes": await exitCodes() },
  };
  const out = new Map(Object.entries(files));
  for (const [file, r] of Object.entries(docs)) {
    out.set(file, formatMarkdown(file, fill(readFileSync(join(root, file), "utf8"), r, file)));
  }
  return out;
}

function current(file) {
  try {
    return readFileSync(join(root, file), "utf8");
  } catch {
    return undefined;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes("--check");
  const stale = [];
  for (const [file, text] of await render()) {
    if (current(file) === text) continue;
    stale.push(file);
    if (check) continue;
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
    if (file.endsWith(".sh")) chmodSync(join(root, file), 0o755);
  }
  if (check && stale.length) {
    console.error(`stale (run node scripts/gen-docs.mjs): ${stale.join(", ")}`);
    process.exitCode = 1;
  } else console.log(stale.length ? `wrote ${stale.join(", ")}` : "docs and examples are up to date");
}
