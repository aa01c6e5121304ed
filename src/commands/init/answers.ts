/**
 * What init writes, decided two ways: from flags and defaults (no terminal, --yes, CI), or by
 * asking on a terminal. Both return the same Setup, so the rest of init has one path.
 * The questions go through a small Prompter so tests can answer them without a TTY.
 */
import { parseDurationMs } from "../../core/duration.js";
import type { ProviderName, StageMechanism } from "../../core/policy.js";
import { UsageError } from "../../errors.js";
import { NAME_PATTERN, VARIABLE_PATTERN } from "../../policy/schema.js";
import { skipVariable } from "../../scaffold/contract.js";
import type { Detected } from "../../scaffold/detect.js";
import { type OwnKey, validPrincipal } from "../../scaffold/key.js";
import type { InitAnswers, NotifyAnswer, StageAnswer } from "../../scaffold/policy.js";
import type { Prompter } from "../../ui/prompt.js";
import type { OptionsOf } from "../define.js";
import type { initCommand } from "./command.js";

export type InitOptions = OptionsOf<typeof initCommand>;

export interface Setup extends InitAnswers {
  /** The allowed_signers principal of the user's key. */
  principal: string;
  /** Whether to add the user's key to allowed_signers. */
  addKey: boolean;
}

export interface SetupContext {
  detected: Detected;
  /** True when --provider was given: the provider is not asked. */
  providerFixed: boolean;
  key: OwnKey | undefined;
  /** The principal to propose (or use with --yes). */
  principal: string;
  flags: InitOptions;
}

export type { Choice, Prompter } from "../../ui/prompt.js";

const DEFAULT_TTL = "4h";
const DEFAULT_MAX_TTL = "24h";

export function parseStages(list: string): string[] {
  const names = list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.find((n) => !NAME_PATTERN.test(n));
  if (bad !== undefined || names.length === 0) {
    throw new UsageError(
      `--stages "${list}": ${bad === undefined ? "no stage named" : `"${bad}" is not a stage name`}`,
      {
        hint: 'a comma list of names made of letters, digits, ".", "_" and "-", e.g. lint,e2e',
      },
    );
  }
  return [...new Set(names)];
}

/** The mechanism a stage gets without asking: guard on plain git, a commit status on a forge. */
function defaultStage(name: string, provider: ProviderName): StageAnswer {
  return provider === "git"
    ? { name, mechanism: "guard" }
    : { name, mechanism: "status", context: `ci/${name}` };
}

function checkPrincipal(p: string): string {
  if (!validPrincipal(p)) {
    throw new UsageError(`--principal "${p}" cannot be an allowed_signers principal`, {
      hint: "use your login or email: no spaces, commas, quotes or * ? ! #",
    });
  }
  return p;
}

/**
 * On plain git the policy always names the repository: records carry the name and readers compare
 * with it, so it must not depend on the URL form each clone happens to use (ssh, https, a mirror).
 */
function repoAnswers(ctx: SetupContext, provider: ProviderName): Pick<InitAnswers, "repo" | "gitlabUrl"> {
  const repo = ctx.detected.repo ?? (provider === "git" ? ctx.detected.localRepo : undefined);
  return {
    ...(repo ? { repo } : {}),
    ...(ctx.detected.gitlabUrl ? { gitlabUrl: ctx.detected.gitlabUrl } : {}),
  };
}

/** Flags and defaults only: one stage (lint), allowed to the user alone, 4h/24h, no channels. */
export function defaultSetup(ctx: SetupContext): Setup {
  const provider = ctx.detected.provider;
  const principal = checkPrincipal(ctx.flags.principal ?? ctx.principal);
  return {
    provider,
    ...repoAnswers(ctx, provider),
    stages: parseStages(ctx.flags.stages ?? "lint").map((s) => defaultStage(s, provider)),
    allow: [`user:${principal}`],
    ttl: DEFAULT_TTL,
    maxTtl: DEFAULT_MAX_TTL,
    notify: [],
    principal,
    addKey: ctx.key !== undefined,
  };
}

const validDuration = (v: string) => {
  const ms = parseDurationMs(v.trim());
  return (ms !== null && ms > 0) || "a duration: 30m, 4h, 2d or ISO 8601 (PT4H)";
};

async function askStage(p: Prompter, name: string, provider: ProviderName): Promise<StageAnswer> {
  if (provider === "git") return { name, mechanism: "guard" };
  const mechanism = await p.select<StageMechanism>(
    `How is "${name}" waived?`,
    [
      { value: "status", name: "status: post a success commit status (unblocks a required check)" },
      { value: "variable", name: "variable: set a CI variable the job's rules check" },
      { value: "guard", name: "guard: the job asks `optout guard` (works in any CI)" },
    ],
    "status",
  );
  if (mechanism === "status") {
    const context = await p.input(
      `Status context for "${name}":`,
      `ci/${name}`,
      (v) => !!v.trim() || "required",
    );
    return { name, mechanism, context: context.trim() };
  }
  if (mechanism === "variable") {
    const variable = await p.input(`CI variable for "${name}":`, skipVariable(name), (v) =>
      VARIABLE_PATTERN.test(v.trim()) ? true : "letters, digits and _, not starting with a digit",
    );
    return { name, mechanism, variable: variable.trim() };
  }
  return { name, mechanism };
}

async function askNotify(p: Prompter, provider: ProviderName): Promise<NotifyAnswer[]> {
  const kinds = await p.checkbox<"slack" | "webhook" | "issue">("Announce every override to:", [
    { value: "slack", name: "Slack (incoming webhook URL from an environment variable)" },
    { value: "webhook", name: "a webhook (JSON POST, HMAC-signed)" },
    ...(provider === "git"
      ? []
      : [{ value: "issue" as const, name: "a tracking issue (a comment per event)" }]),
  ]);
  const out: NotifyAnswer[] = [];
  const envName = (v: string) => VARIABLE_PATTERN.test(v.trim()) || "an environment variable name";
  for (const kind of kinds) {
    if (kind === "slack") {
      const env = await p.input(
        "Environment variable holding the Slack webhook URL:",
        "OPTOUT_SLACK_WEBHOOK_URL",
        envName,
      );
      out.push({ type: "slack", webhookUrlEnv: env.trim() });
    } else if (kind === "webhook") {
      const url = await p.input(
        "Webhook URL:",
        "https://",
        (v) => /^https?:\/\/\S+$/.test(v.trim()) || "an http(s) URL",
      );
      const secretEnv = await p.input(
        "Environment variable holding its HMAC secret:",
        "OPTOUT_WEBHOOK_SECRET",
        envName,
      );
      out.push({ type: "webhook", url: url.trim(), secretEnv: secretEnv.trim() });
    } else {
      const n = await p.input(
        "Tracking issue number:",
        "",
        (v) => /^[1-9][0-9]*$/.test(v.trim()) || "a number",
      );
      out.push({ type: "issue", number: Number(n.trim()) });
    }
  }
  return out;
}

export async function askSetup(p: Prompter, ctx: SetupContext): Promise<Setup> {
  const d = ctx.detected;
  const provider = ctx.providerFixed
    ? d.provider
    : await p.select<ProviderName>(
        `Provider (detected: ${d.provider}, ${d.providerFrom}):`,
        [
          { value: "github", name: "github: commit statuses, Actions variables, workflow dispatch" },
          { value: "gitlab", name: "gitlab: commit statuses, CI/CD variables, pipelines" },
          { value: "git", name: "git: any remote, any CI; skips enforced by optout guard" },
        ],
        d.provider,
      );
  const stageList = await p.input(
    "Stages to make overridable (comma list):",
    ctx.flags.stages ?? "lint",
    (v) => {
      try {
        parseStages(v);
        return true;
      } catch (e) {
        return (e as Error).message;
      }
    },
  );
  const stages: StageAnswer[] = [];
  for (const name of parseStages(stageList)) stages.push(await askStage(p, name, provider));
  const who =
    provider === "github"
      ? "your GitHub login"
      : provider === "gitlab"
        ? "your GitLab username"
        : "your name for allowed_signers, e.g. email";
  const principal = (
    await p.input(`Principal (${who}):`, ctx.flags.principal ?? ctx.principal, (v) =>
      validPrincipal(v.trim()) ? true : "no spaces, commas, quotes or * ? ! #",
    )
  ).trim();
  const addKey = ctx.key
    ? await p.confirm(`Trust your key (${ctx.key.source}) as ${principal}?`, true)
    : false;
  const allowText = await p.input(
    "Who may override (principals, comma list):",
    `user:${principal}`,
    (v) =>
      v.split(",").every((x) => /^(user|team|group|role):\S+$/.test(x.trim())) ||
      "user:<login>, team:<org>/<slug>, group:<path> or role:<name>",
  );
  const ttl = (await p.input("Default TTL of an override:", DEFAULT_TTL, validDuration)).trim();
  const maxTtl = (
    await p.input("Longest TTL anyone may ask for:", DEFAULT_MAX_TTL, (v) => {
      const ok = validDuration(v);
      if (ok !== true) return ok;
      return parseDurationMs(v.trim())! >= parseDurationMs(ttl)! || `at least the default TTL (${ttl})`;
    })
  ).trim();
  return {
    provider,
    ...repoAnswers(ctx, provider),
    stages,
    allow: allowText.split(",").map((x) => x.trim()),
    ttl,
    maxTtl,
    notify: await askNotify(p, provider),
    principal,
    addKey,
  };
}
