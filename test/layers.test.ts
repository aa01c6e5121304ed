/**
 * The layering ARCHITECTURE.md describes, enforced on src/'s import graph (read with TypeScript's
 * parser: static imports, re-exports, type imports and `import()` alike). A module may import
 * from its own layer and the layers below it, never above; core imports nothing but core and
 * errors; and no chain of runtime imports comes back to where it started.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helpers/world.js";

/** Top to bottom. An entry is a folder of src/, or a file of src/ without its extension. */
const layers: string[][] = [
  ["main", "action"],
  ["cli"],
  ["commands"],
  ["factory"],
  ["providers", "notify", "policy", "ledger", "scaffold"],
  ["ui"],
  ["core", "git"],
  ["errors", "version"],
];

const src = join(repoRoot, "src");

interface Edge {
  from: string;
  to: string;
  /** Only types: erased at run time. */
  typeOnly: boolean;
  /** `import()`: loaded when called, never at startup. */
  dynamic: boolean;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** `src/a/b.ts` → "a/b"; import specifiers name the compiled ".js". */
const id = (file: string) => relative(src, file).replace(/\.(ts|js)$/, "");

function edges(file: string): Edge[] {
  const text = readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: Edge[] = [];
  const add = (spec: ts.Expression | undefined, typeOnly: boolean, dynamic: boolean) => {
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith(".")) return;
    out.push({ from: id(file), to: id(resolve(dirname(file), spec.text)), typeOnly, dynamic });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      const named =
        c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      const typeOnly =
        !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, typeOnly, false);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly, false);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false, true);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal as ts.Expression, true, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const graph = sources(src).flatMap(edges);
const modules = sources(src).map(id);

function layerOf(module: string): number {
  const top = module.split("/")[0]!;
  return layers.findIndex((l) => l.includes(top));
}

describe("src/ layering", () => {
  it("places every module in a layer (a new folder needs a place in ARCHITECTURE.md and here)", () => {
    expect(modules.filter((m) => layerOf(m) < 0)).toEqual([]);
  });

  it("imports only from its own layer or below", () => {
    const upward = graph
      .filter((e) => layerOf(e.to) < layerOf(e.from))
      .map((e) => `${e.from} -> ${e.to}${e.typeOnly ? " (type)" : ""}`);
    expect(upward).toEqual([]);
  });

  it("core imports nothing but core and errors", () => {
    const out = graph
      .filter((e) => e.from.startsWith("core/") && !e.to.startsWith("core/") && e.to !== "errors")
      .map((e) => `${e.from} -> ${e.to}`);
    expect(out).toEqual([]);
  });

  it("has no cycle of runtime imports", () => {
    const next = new Map<string, string[]>();
    for (const e of graph)
      if (!e.typeOnly && !e.dynamic) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const path: string[] = [];
    const visit = (m: string) => {
      if (state.get(m) === "done") return;
      if (state.get(m) === "open") {
        cycles.push([...path.slice(path.indexOf(m)), m].join(" -> "));
        return;
      }
      state.set(m, "open");
      path.push(m);
      for (const n of next.get(m) ?? []) visit(n);
      path.pop();
      state.set(m, "done");
    };
    for (const m of modules) visit(m);
    expect(cycles).toEqual([]);
  });

  it("sees what it checks: upward imports would be found", () => {
    // The parser finds every kind of import: a static one, a type import and a lazy one.
    expect(graph).toContainEqual({ from: "main", to: "cli/program", typeOnly: false, dynamic: true });
    expect(graph).toContainEqual(
      expect.objectContaining({ from: "factory", to: "core/policy", typeOnly: true }),
    );
    expect(graph).toContainEqual(
      expect.objectContaining({ from: "cli/program", to: "core/inputs", dynamic: false }),
    );
    expect(layerOf("commands/skip/run")).toBeLessThan(layerOf("factory"));
  });
});
