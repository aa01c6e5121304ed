/**
 * What init says: each file and what happened to it, and the next steps on stderr (talk); the
 * pipeline text to paste on stdout (data), or one JSON document with --json.
 */
import type { Factory } from "../../factory.js";
import type { FileAction } from "../../scaffold/files.js";
import { paint } from "../../ui/paint.js";
import type { InitResult } from "./run.js";

const words: Record<FileAction, string> = {
  create: "created",
  unchanged: "unchanged",
  replace: "replaced",
  keep: "kept",
};

function protectStep(r: InitResult): string[] {
  const branch = "optout/audit";
  if (r.ci === "github")
    return [
      `Protect ${branch} and ${r.defaultBranch} against force-push and deletion: Settings → Rules → Rulesets`,
      `(target both branches; "Restrict deletions" and "Block force pushes" on).`,
    ];
  if (r.ci === "gitlab")
    return [
      `Protect ${branch} and ${r.defaultBranch}: Settings → Repository → Protected branches,`,
      `with "Allowed to force push" off. Whoever may override needs push access to ${branch}.`,
    ];
  return [
    `Protect ${branch} against force-push and deletion. On the server's bare repository:`,
    "  git config receive.denyNonFastForwards true",
    "  git config receive.denyDeletes true",
  ];
}

export function nextSteps(r: InitResult): string[] {
  const paths = r.files.filter((x) => x.action !== "keep").map((x) => x.file.path);
  const stage = r.setup.stages[0]?.name ?? "lint";
  return [
    `1. Commit and push to ${r.defaultBranch}: optout trusts the policy's signers only from the remote's default branch.`,
    `     git add ${paths.join(" ")}`,
    '     git commit -m "Add optout policy and allowed signers"',
    `     git push origin ${r.defaultBranch}`,
    ...protectStep(r).map((l, i) => (i === 0 ? `2. ${l}` : `   ${l}`)),
    "3. Check it, then try it:",
    "     optout doctor",
    `     optout skip ${stage} --reason "linter crashes on node 22, INC-4411"`,
    `     optout guard ${stage}    # prints skip; \`optout revert <id>\` undoes it`,
  ];
}

export async function presentInit(f: Factory, r: InitResult): Promise<void> {
  const dry = f.globals.dryRun;
  if (f.io.json) {
    f.io.printJson({
      provider: r.setup.provider,
      providerFrom: r.providerFrom,
      repo: r.setup.repo ?? null,
      ci: r.ci,
      dryRun: dry,
      files: r.files.map(({ file, action }) => ({
        path: file.path,
        action,
        ...(file.note ? { note: file.note } : {}),
      })),
      pipeline: r.printed.map((p) => ({ path: p.path, kind: p.kind, title: p.title, content: p.content })),
      ...(r.keyProblem ? { keyProblem: r.keyProblem.problem } : {}),
      next: nextSteps(r),
    });
    return;
  }
  const p = await paint(f.io);
  const repo = r.setup.repo ? `, repo ${r.setup.repo}` : "";
  f.io.err(
    `optout init: provider ${r.setup.provider} (${r.providerFrom})${repo}${dry ? " — dry run, nothing written" : ""}`,
  );
  for (const { file, action } of r.files) {
    const word = `${dry && action !== "unchanged" && action !== "keep" ? "would be " : ""}${words[action]}`;
    const why =
      action === "keep"
        ? "exists and differs; --force replaces it"
        : action === "unchanged"
          ? ""
          : (file.note ?? "");
    const line = `  ${word.padEnd(10)} ${file.path}${why ? `  (${why})` : ""}`;
    f.io.err(action === "keep" ? p.yellow(line) : line);
  }
  if (r.otherPolicy)
    f.io.err(p.yellow(`  kept       ${r.otherPolicy}  (your policy file; init wrote no other)`));
  if (r.keyProblem) {
    f.io.err(`${p.yellow("warning:")} ${r.keyProblem.problem}: no key was added, so nobody can sign yet`);
    f.io.err(`hint: ${r.keyProblem.hint}; then run optout init again`);
  }
  for (const file of r.printed) {
    const where = file.kind === "file" ? `${file.path} (init --write writes it)` : file.path;
    f.io.out(`# ── ${where}: ${file.title}\n${file.content}`);
  }
  if (r.files.every((x) => x.action === "unchanged")) f.io.err("Nothing to change: init already ran here.");
  f.io.err(`\n${p.bold("Next steps")}`);
  for (const l of nextSteps(r)) f.io.err(`  ${l}`);
}
