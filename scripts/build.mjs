#!/usr/bin/env node
/**
 * `npm run build`: dist/ from src/ with esbuild, so the published package needs no dependency tree
 * (`npm install optout` fetches one tarball) and starts as fast as the modules it loads allow.
 *
 * - optout's own code is bundled with code splitting: every `import()` stays a lazy chunk, so
 *   `optout guard` loads what guard needs and nothing else.
 * - Each third-party package optout imports is bundled on its own, into dist/vendor/<name>/index.js
 *   (their shared code in dist/vendor/chunks/), and optout's code imports it as `#vendor/<name>`
 *   (package.json "imports"). A package's name stays visible in the files a process loads, so the
 *   tests that trace imports can still tell that guard loads no octokit.
 * - A few modules are entry points of their own because programs outside dist/ import them by
 *   path: LIBRARY_ENTRIES says which and why.
 * - action/ holds the GitHub Action (src/action/main.ts) bundled whole, third-party code included:
 *   GitHub runs an action from its repository as committed, without npm install. It is built
 *   only on request, so that a build never hides a stale commit: test/action/bundle.test.ts
 *   fails when the committed action/ differs from what this script builds now.
 *
 * Type checking is `npm run typecheck` (tsc); esbuild only strips types.
 *
 *   node scripts/build.mjs                  dist/
 *   node scripts/build.mjs --action         action/ (npm run build:action; commit the result)
 *   node scripts/build.mjs --check-action   exit 1 naming what differs in the committed action/
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

/** Modules imported by path from outside dist/main.js's graph, and who imports them. */
export const LIBRARY_ENTRIES = [
  "main", // bin/optout.js
  // scripts/gen-docs.mjs and scripts/gen-schema.mjs render docs/, examples/ and schema/ from these
  "cli/program",
  "cli/topics",
  "errors",
  "policy/json-schema",
  "scaffold/policy",
  "scaffold/templates/index",
  "scaffold/templates/github",
  "scaffold/templates/gitlab",
  "scaffold/templates/shell",
  // bench/make-ledger.mjs writes ledgers with optout's own record and signing code
  "core/record",
  "ledger/canonical",
  "ledger/keys",
  "ledger/sshsig",
  "ledger/store",
  "ledger/ulid",
  // the tests that check a provider loads its API client only on the first request
  "providers/github/index",
  "providers/gitlab/index",
];

const common = {
  // Paths esbuild writes into bundles are relative to this: the same bytes from any checkout.
  absWorkingDir: root,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  splitting: true,
  define: { OPTOUT_VERSION: JSON.stringify(version) },
  logLevel: "warning",
  // CommonJS packages call require() for Node's modules; an ES module has no require of its own.
  banner: {
    js: 'import { createRequire as __optoutRequire } from "node:module"; const require = __optoutRequire(import.meta.url);',
  },
  // Optional peer of cosmiconfig (for .ts policy files): loaded from the user's project if at all.
  external: ["typescript"],
};

/** A bare import ("zod", "@octokit/core") as opposed to a relative path or a node: builtin. */
const isPackage = (p) => !p.startsWith(".") && !p.startsWith("/") && !p.startsWith("node:");

async function buildDist(outdir) {
  const packages = new Set();
  await esbuild.build({
    ...common,
    entryPoints: LIBRARY_ENTRIES.map((e) => ({ in: join(root, "src", `${e}.ts`), out: e })),
    outdir,
    chunkNames: "chunks/[name]-[hash]",
    banner: {},
    plugins: [
      {
        name: "vendor",
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => {
            if (!isPackage(args.path)) return undefined;
            packages.add(args.path);
            return { path: `#vendor/${args.path}`, external: true };
          });
        },
      },
    ],
  });
  const entries = await vendorEntries([...packages].sort());
  const vendor = await esbuild.build({
    ...common,
    entryPoints: Object.keys(entries).map((p) => ({ in: `vendor-entry:${p}`, out: `vendor/${p}/index` })),
    outdir,
    chunkNames: "vendor/chunks/[name]-[hash]",
    minify: true,
    legalComments: "none",
    metafile: true,
    plugins: [
      {
        name: "vendor-entry",
        setup(b) {
          b.onResolve({ filter: /^vendor-entry:/ }, (args) => ({
            path: args.path,
            namespace: "vendor-entry",
          }));
          b.onLoad({ filter: /.*/, namespace: "vendor-entry" }, (args) => ({
            contents: entries[args.path.slice("vendor-entry:".length)],
            resolveDir: root,
            loader: "js",
          }));
        },
      },
    ],
  });
  writeFileSync(join(outdir, "vendor", "LICENSES.txt"), licenses(vendor.metafile));
  return [...packages].sort();
}

/**
 * Each package's entry module: its exports by name, as Node shows them to an `import`. An ES
 * module bundled from a CommonJS package would export only `default` (its names are known only
 * when it runs), so `const { defaultLoaders } = await import("cosmiconfig")` would find nothing;
 * Node's own view (it reads a CommonJS module's names from its source) says which to export.
 */
async function vendorEntries(packages) {
  const entries = {};
  for (const p of packages) {
    const ns = Object.keys(await import(p));
    const names = ns.filter((k) => k !== "default" && /^[A-Za-z_$][\w$]*$/.test(k));
    entries[p] = [
      `import * as ns from ${JSON.stringify(p)};`,
      names.length ? `export const { ${names.join(", ")} } = ns;` : "",
      ns.includes("default") ? "export default ns.default;" : "",
    ].join("\n");
  }
  return entries;
}

async function buildAction(outdir) {
  const r = await esbuild.build({
    ...common,
    entryPoints: [{ in: join(root, "src", "action", "main.ts"), out: "main" }],
    outdir,
    chunkNames: "chunks/[name]-[hash]",
    // Committed: minified, it is a third of the size (every command's code is in it, as lazy
    // chunks, because the Factory can reach every provider).
    minify: true,
    legalComments: "none",
    metafile: true,
  });
  const lic = licenses(r.metafile);
  if (lic) writeFileSync(join(outdir, "LICENSES.txt"), lic);
}

/** The license texts of every package with code in a build: bundling copies code, and notices must follow. */
function licenses(metafile) {
  const dirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) dirs.add(m[1]);
  }
  const parts = [];
  for (const dir of [...dirs].sort()) {
    const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
    const file = readdirSync(join(root, dir)).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = file ? readFileSync(join(root, dir, file), "utf8").trim() : `License: ${pkg.license}`;
    parts.push(`${pkg.name}@${pkg.version}\n\n${text}\n`);
  }
  return parts.join(`\n${"-".repeat(78)}\n\n`);
}

function files(dir, base = dir, out = new Map()) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) files(p, base, out);
    else out.set(relative(base, p), readFileSync(p, "utf8"));
  }
  return out;
}

/** What differs between the committed action/ and a fresh build of it ([] when up to date). */
export async function staleAction() {
  const tmp = mkdtempSync(join(os.tmpdir(), "optout-action-"));
  try {
    await buildAction(tmp);
    const fresh = files(tmp);
    let committed = new Map();
    try {
      if (statSync(join(root, "action")).isDirectory()) committed = files(join(root, "action"));
    } catch {}
    const names = new Set([...fresh.keys(), ...committed.keys()]);
    return [...names].filter((n) => fresh.get(n) !== committed.get(n)).sort();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--check-action")) {
    const stale = await staleAction();
    if (stale.length) {
      console.error(`action/ is stale (run npm run build:action and commit it): ${stale.join(", ")}`);
      process.exitCode = 1;
    }
  } else if (process.argv.includes("--action")) {
    rmSync(join(root, "action"), { recursive: true, force: true });
    await buildAction(join(root, "action"));
  } else {
    rmSync(join(root, "dist"), { recursive: true, force: true });
    await buildDist(join(root, "dist"));
    // Said at every build, since a change anywhere in guard's code changes the Action's bundle,
    // and test/action/bundle.test.ts fails on a stale one.
    const stale = await staleAction();
    if (stale.length) {
      console.error(
        "warning: action/ differs from what src/ builds: run npm run build:action and commit action/",
      );
    }
  }
}
