/**
 * What an announcement says, independent of where it goes: one title per event and the facts a
 * reader at 3 a.m. needs (who, what, why, until when, how to undo). Slack and the issue comment
 * render this summary in their own markup; all user text is made inert here, once, and each
 * channel escapes it for its own syntax.
 */
import type { NotifyEvent, NotifyEventName } from "../core/ports.js";
import type { Target } from "../core/record.js";
import { inert, inertLine } from "../ui/text.js";

export interface Summary {
  event: NotifyEventName;
  title: string;
  repo: string;
  actor: string;
  /** Type and target in words: "skip lint on main @ 3f2a9c1". */
  override: string;
  reason: string | null;
  ticket: string | null;
  /** ISO time, or null for "no expiry". */
  expiresAt: string | null;
  recordId: string;
  /** The record this one undoes or answers: "reverts 01J…", "request 01J…", "intent 01J…". */
  relatesTo: string | null;
  approvers: string[];
  /** Why it failed or was denied. */
  error: string | null;
  /** The command to paste: approve for a pending request, otherwise revert. */
  command: { label: "Approve" | "Revert"; text: string } | null;
  /** Only http(s) URLs survive: a link is a click target in Slack and on the forge. */
  links: { record?: string; run?: string };
}

export const noExpiry = "no expiry";

const one = (s: unknown): string => inertLine(String(s ?? ""));

/** Digests make artifacts unreadable in a title; the full reference stays in the fields. */
function shortArtifact(a: string): string {
  return a.replace(/@sha256:([0-9a-f]{12})[0-9a-f]+/i, "@sha256:$1…");
}

/** "skip lint on main @ 3f2a9c1", "flag DEPLOY_FREEZE_BYPASS = true in production", … */
export function describe(
  op: string | null,
  target: Target,
  params: Record<string, string | null> | undefined,
  short = false,
): string {
  const t = (k: string): string => one(target[k]);
  const env = target.env ? ` in ${t("env")}` : "";
  switch (op) {
    case "skip":
      return `skip ${t("stage")} on ${t("ref") || "any ref"}${target.sha ? ` @ ${t("sha").slice(0, 7)}` : ""}`;
    case "flag": {
      const value = params?.value;
      return value === null || value === undefined
        ? `unset flag ${t("flag")}${env}`
        : `flag ${t("flag")} = ${one(value)}${env}`;
    }
    case "rollout": {
      const artifact = short ? shortArtifact(t("artifact")) : t("artifact");
      return `rollout of ${artifact} to ${t("env")}`;
    }
    case "failover":
      return `failover to ${t("target")}${env}`;
    default: {
      const parts = Object.entries(target ?? {})
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => `${one(k)}=${one(v)}`);
      return [op ?? "override", ...parts].join(" ");
    }
  }
}

/** The headline; the applied case reads as a sentence because it is the one people skim most. */
function titleOf(e: NotifyEvent, op: string | null, what: string, actor: string): string {
  const r = e.record;
  const target = r.target ?? {};
  const t = (k: string): string => one(target[k]);
  const env = target.env ? ` in ${t("env")}` : "";
  switch (e.event) {
    case "applied":
      switch (op) {
        case "skip": {
          const where = [t("ref"), t("sha").slice(0, 7)].filter(Boolean).join(" @ ") || "all refs";
          return `⚠️ ${t("stage")} waived on ${where} by ${actor}`;
        }
        case "flag":
          return r.params?.value === null || r.params?.value === undefined
            ? `⚠️ ${t("flag")} unset${env} by ${actor}`
            : `⚠️ ${t("flag")} set to ${one(r.params.value)}${env} by ${actor}`;
        case "rollout":
          return `⚠️ Artifact-only rollout to ${t("env")} by ${actor}`;
        case "failover":
          return `⚠️ Failover to ${t("target")}${env} by ${actor}`;
        default:
          return `⚠️ Override applied by ${actor}: ${what}`;
      }
    case "pending":
      return `⏳ Request pending approval: ${what} by ${actor}`;
    case "approved":
      return `✅ Request approved by ${actor}: ${what}`;
    case "rejected":
      return `🚫 Request rejected by ${actor}: ${what}`;
    case "reverted":
      return `↩️ Override reverted by ${actor}: ${what}`;
    case "expired":
      return `⌛ Override expired: ${what}`;
    case "denied":
      return `⛔ Denied attempt by ${actor}: ${what}`;
    case "failed":
      return `❌ Override failed: ${what} by ${actor}`;
    case "test":
      return `🔔 optout test notification for ${one(e.repo)}`;
  }
}

function httpUrl(u: string | undefined): string | undefined {
  if (!u) return undefined;
  try {
    const url = new URL(u);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

export function summarize(e: NotifyEvent): Summary {
  const r = e.record;
  // Override records carry their type; request/deny/revert/expire/result carry it in `op`.
  const op = r.op ?? r.type ?? null;
  const actor = one(r.actor?.login) || "unknown";
  const what = describe(op, r.target ?? {}, r.params, true);
  const approve = e.links.approve ? one(e.links.approve) : "";
  const revert = e.links.revert ? one(e.links.revert) : "";
  const command =
    e.event === "pending" && approve
      ? { label: "Approve" as const, text: approve }
      : revert
        ? { label: "Revert" as const, text: revert }
        : approve
          ? { label: "Approve" as const, text: approve }
          : null;
  const links: Summary["links"] = {};
  const recordUrl = httpUrl(e.links.record);
  const runUrl = httpUrl(e.links.run);
  if (recordUrl) links.record = recordUrl;
  if (runUrl) links.run = runUrl;
  const l = r.links ?? {};
  const relatesTo = l.reverts
    ? `reverts ${one(l.reverts)}`
    : l.request
      ? `request ${one(l.request)}`
      : l.intent
        ? `intent ${one(l.intent)}`
        : null;
  return {
    event: e.event,
    title: titleOf(e, op, what, actor),
    repo: one(e.repo),
    actor,
    override: e.event === "test" ? "none (test notification)" : describe(op, r.target ?? {}, r.params),
    reason: r.reason ? inert(r.reason) : null,
    ticket: r.ticket ? one(r.ticket) : null,
    expiresAt: r.expiresAt ? one(r.expiresAt) : null,
    recordId: one(r.id),
    relatesTo,
    approvers: (r.approvers ?? []).map(one),
    error: r.error ? inert(r.error) : null,
    command,
    links,
  };
}
