/**
 * `optout init`: writes `.optoutrc.json` and `.optout/allowed_signers` (with the user's key), and
 * prints the pipeline files for guard, expire and rollout (writes them with --write). Nothing that
 * exists is replaced without --force or a yes at a prompt, and a second run changes nothing.
 */
import { relative } from "node:path";
import type { ProviderName } from "../../core/policy.js";
import { ConfigError, UsageError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { currentBranch } from "../../git/repo.js";
import { findPolicyFile } from "../../policy/load.js";
import { PolicyErrors } from "../../policy/problems.js";
import { type Detected, detect } from "../../scaffold/detect.js";
import {
  apply,
  decide,
  type FileAction,
  onlyComments,
  type PlannedFile,
  planFile,
  readIfExists,
  sameJson,
} from "../../scaffold/files.js";
import { defaultPrincipal, findOwnKey, type OwnKey } from "../../scaffold/key.js";
import { allowedSignersText, policyText, principalForKey, signerLine } from "../../scaffold/policy.js";
import { type CiSystem, type PipelineFile, pipelineFiles } from "../../scaffold/templates/index.js";
import { version } from "../../version.js";
import { askSetup, defaultSetup, type InitOptions, type Setup } from "./answers.js";
import { presentInit } from "./present.js";

export type { InitOptions } from "./answers.js";

export const POLICY_PATH = ".optoutrc.json";

export interface InitResult {
  setup: Setup;
  providerFrom: string;
  ci: CiSystem;
  defaultBranch: string;
  files: { file: PlannedFile; action: FileAction }[];
  /** Pipeline text to paste (snippets, and the files when not --write). */
  printed: PipelineFile[];
  key: OwnKey | undefined;
  keyProblem?: { problem: string; hint: string };
  /** A policy file in another form (.optoutrc.yaml, package.json#optout) that init left alone. */
  otherPolicy?: string;
}

/** Rejects a policy init would write but `policy check` would refuse (e.g. team: on plain git). */
async function checkPolicy(text: string, root: string): Promise<void> {
  const { loadPolicyText } = await import("../../policy/load.js");
  try {
    await loadPolicyText(text, POLICY_PATH, { cwd: root });
  } catch (e) {
    if (!(e instanceof PolicyErrors)) throw e;
    throw new UsageError(`the answers make an invalid policy: ${e.lines().join("; ")}`, {
      hint: "run init again with other answers (docs/policy.md lists what each provider can check)",
    });
  }
}

/**
 * Pipelines follow where the repository is hosted, not the provider: a plain-git policy on a
 * GitHub repository still runs in GitHub Actions.
 */
function ciSystem(detected: Detected, provider: ProviderName): CiSystem {
  return detected.hostedOn ?? (provider === "git" ? "any" : provider);
}

export async function runInit(f: Factory, o: InitOptions): Promise<void> {
  const root = (await f.repoInfo()).root;
  const detected = await detect(root, f.env, f.globals.provider);
  const lookup = await findOwnKey(root, f.env, f.cwd);
  const key = "key" in lookup ? lookup.key : undefined;
  const signersPath = ".optout/allowed_signers";
  const signersNow = await readIfExists(root, signersPath);
  // A key already listed keeps its principal: the policy must allow the name the key signs as.
  const listedAs = key && signersNow !== undefined ? principalForKey(signersNow, key.publicLine) : undefined;
  const ctx = {
    detected,
    providerFixed: f.globals.provider !== undefined,
    key,
    principal: listedAs ?? (await defaultPrincipal(root, f.env, detected.provider, key)),
    flags: o,
  };
  const prompter = f.io.canPrompt ? f.prompter : undefined;
  const setup = prompter ? await askSetup(prompter, ctx) : defaultSetup(ctx);
  if (listedAs && setup.principal !== listedAs && setup.addKey) {
    throw new ConfigError(`your key is already in ${signersPath} as ${listedAs}, not ${setup.principal}`, {
      hint: `run again with --principal ${listedAs}, or edit ${signersPath}`,
    });
  }

  const text = policyText(setup);
  await checkPolicy(text, root);
  const found = findPolicyFile(root);
  const otherPolicy = found && relative(root, found) !== POLICY_PATH ? relative(root, found) : undefined;
  const ci = ciSystem(detected, setup.provider);
  const pipeline = pipelineFiles(ci, { provider: setup.provider, stages: setup.stages, version: version() });

  const planned: PlannedFile[] = [];
  if (!otherPolicy) planned.push(await planFile(root, POLICY_PATH, text, { same: sameJson(text) }));
  const line = setup.addKey && key ? signerLine(setup.principal, key.publicLine) : undefined;
  planned.push({
    path: signersPath,
    content: allowedSignersText(signersNow, line),
    existing: signersNow,
    empty: onlyComments,
    ...(line ? { note: `your key as ${setup.principal}` } : {}),
  });
  if (o.write) {
    for (const p of pipeline.filter((x) => x.kind === "file"))
      planned.push(await planFile(root, p.path, p.content, { executable: p.path.endsWith(".sh") }));
  }

  const ask = prompter && ((q: string) => prompter.confirm(q, false));
  const files: InitResult["files"] = [];
  // Every question first, then the writes: Ctrl-C at a question leaves no file half-decided.
  for (const file of planned) files.push({ file, action: await decide(file, o.force === true, ask) });
  if (!f.globals.dryRun) for (const { file, action } of files) await apply(root, file, action);
  await presentInit(f, {
    setup,
    providerFrom: detected.providerFrom,
    ci,
    defaultBranch: detected.defaultBranch ?? (await currentBranch(root)) ?? "main",
    files,
    printed: pipeline.filter((p) => p.kind === "snippet" || !o.write),
    key,
    ...("problem" in lookup ? { keyProblem: lookup } : {}),
    ...(otherPolicy ? { otherPolicy } : {}),
  });
}
