/**
 * The comment posted on the policy's tracking issue (GitHub or GitLab markdown). User text goes
 * into code spans and a fenced block: there markdown, HTML and @mentions are not interpreted, so
 * a reason cannot ping a team, embed a tracking image or fake a link.
 */
import { noExpiry, type Summary } from "./message.js";

/** GitHub refuses comments above 65 536 characters; a reason needs far less. */
const maxReason = 4000;
const maxField = 500;

function clip(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join("")}…`;
}

/** A code span long enough to hold any backtick run inside (CommonMark §6.1). */
export function codeSpan(raw: string): string {
  const s = clip(raw.replace(/\r?\n/g, " "), maxField);
  if (s === "") return "—";
  const longest = Math.max(0, ...(s.match(/`+/g) ?? []).map((m) => m.length));
  const ticks = "`".repeat(longest + 1);
  const pad = s.startsWith("`") || s.endsWith("`") || s.startsWith(" ") ? " " : "";
  return `${ticks}${pad}${s}${pad}${ticks}`;
}

function fenced(raw: string): string {
  const s = clip(raw, maxReason);
  const longest = Math.max(0, ...(s.match(/`{3,}/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}text\n${s}\n${fence}`;
}

/**
 * Prose from our templates that embeds names (stage, actor, env): escape markdown punctuation and
 * break @mentions with a zero-width space so the heading renders literally and pings nobody.
 */
export function mdText(s: string): string {
  return s
    .replace(/\r?\n/g, " ")
    .replace(/[\\`*_{}[\]()#+\-.!|~<>&]/g, (c) => `\\${c}`)
    .replace(/@(?=[\w-])/g, "@\u200b");
}

/** A link target that cannot close the markdown link early. */
function mdUrl(url: string): string {
  return url.replace(/[()<> ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function issueMarkdown(s: Summary): string {
  const lines = [`### ${mdText(s.title)}`, ""];
  const item = (label: string, value: string) => lines.push(`- **${label}:** ${value}`);
  item("Actor", codeSpan(s.actor));
  item("Override", codeSpan(s.override));
  item("Ticket", s.ticket ? codeSpan(s.ticket) : "—");
  item("Expiry", s.expiresAt ? codeSpan(s.expiresAt) : noExpiry);
  const recordLink = s.links.record ? ` ([view](${mdUrl(s.links.record)}))` : "";
  item("Record", `${codeSpan(s.recordId)}${recordLink}`);
  if (s.relatesTo) item("Relates to", codeSpan(s.relatesTo));
  if (s.approvers.length > 0) item("Approved by", s.approvers.map(codeSpan).join(", "));
  if (s.links.run) item("Run", `[open](${mdUrl(s.links.run)})`);
  if (s.command) item(s.command.label, codeSpan(s.command.text));
  lines.push("", "**Reason**", "", s.reason ? fenced(s.reason) : "_none given_");
  if (s.error)
    lines.push("", s.event === "denied" ? "**Why it was denied**" : "**Error**", "", fenced(s.error));
  lines.push("", `<sub>announced by optout · ${mdText(s.event)}</sub>`);
  return lines.join("\n");
}
