/**
 * The Slack message for an incoming webhook: Block Kit for people, a plain `text` fallback for
 * notifications and screen readers. Slack parses `&`, `<` and `>` as control characters in every
 * text field (`<!channel>`, `<url|label>`), so user text is escaped, and every field is cut to
 * its Block Kit limit after escaping, since Slack rejects the whole message when one is too long.
 * https://api.slack.com/reference/surfaces/formatting#escaping
 */
import { noExpiry, type Summary } from "./message.js";

/** https://api.slack.com/reference/block-kit/blocks — limits in characters. */
export const slackLimits = {
  header: 150,
  sectionText: 3000,
  fields: 10,
  field: 2000,
  buttonText: 75,
  buttonUrl: 3000,
  fallback: 3000,
} as const;

export interface SlackText {
  type: "plain_text" | "mrkdwn";
  text: string;
  emoji?: boolean;
}

export type SlackBlock =
  | { type: "header"; text: SlackText }
  | { type: "section"; text?: SlackText; fields?: SlackText[] }
  | { type: "actions"; elements: { type: "button"; text: SlackText; url: string; action_id: string }[] }
  | { type: "context"; elements: SlackText[] };

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

export function slackEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Escapes `raw` and cuts it to `max` characters, never inside an entity or a surrogate pair
 * (a half entity would show as "&am", a half pair as a replacement glyph).
 */
export function clipEscaped(raw: string, max: number): string {
  const full = slackEscape(raw);
  if (full.length <= max) return full;
  let out = "";
  for (const ch of raw) {
    const esc = slackEscape(ch);
    if (out.length + esc.length + 1 > max) break;
    out += esc;
  }
  return `${out}…`;
}

/** A code span: backticks inside would end it early, so they go (commands never need them). */
function code(raw: string, max: number): string {
  return `\`${clipEscaped(raw.replace(/`/g, "'"), max - 2)}\``;
}

function field(label: string, value: string, asCode = false): SlackText {
  const head = `*${label}*\n`;
  const room = slackLimits.field - head.length;
  return { type: "mrkdwn", text: head + (asCode ? code(value, room) : clipEscaped(value, room)) };
}

export function slackMessage(s: Summary): SlackMessage {
  const fields: SlackText[] = [
    field("Actor", s.actor),
    field("Override", s.override),
    field("Reason", s.reason ?? "—"),
    field("Ticket", s.ticket ?? "—"),
    field("Expiry", s.expiresAt ?? noExpiry),
    field("Record", s.relatesTo ? `${s.recordId} (${s.relatesTo})` : s.recordId),
  ];
  if (s.command) fields.push(field(s.command.label, s.command.text, true));
  if (s.approvers.length > 0) fields.push(field("Approved by", s.approvers.join(", ")));
  fields.push(field("Repository", s.repo));

  const blocks: SlackBlock[] = [
    {
      type: "header",
      text: { type: "plain_text", text: clipEscaped(s.title, slackLimits.header), emoji: true },
    },
    { type: "section", fields: fields.slice(0, slackLimits.fields) },
  ];
  if (s.error) {
    const head = s.event === "denied" ? "*Why it was denied*\n" : "*Error*\n";
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: head + clipEscaped(s.error, slackLimits.sectionText - head.length) },
    });
  }
  type Button = Extract<SlackBlock, { type: "actions" }>["elements"][number];
  const buttons: Button[] = [];
  const button = (label: string, id: string, url: string | undefined) => {
    // Slack refuses the whole message for an over-long URL; the record id is in the fields anyway.
    if (url && url.length <= slackLimits.buttonUrl)
      buttons.push({ type: "button", text: { type: "plain_text", text: label }, url, action_id: id });
  };
  button("View record", "optout-record", s.links.record);
  button("View run", "optout-run", s.links.run);
  if (buttons.length > 0) blocks.push({ type: "actions", elements: buttons });
  blocks.push({
    type: "context",
    elements: [{ type: "mrkdwn", text: clipEscaped(`optout · ${s.event}`, 200) }],
  });

  const fallback = [s.title, s.reason ? `reason: ${s.reason}` : "", s.command ? s.command.text : ""]
    .filter(Boolean)
    .join(" — ");
  return { text: clipEscaped(fallback, slackLimits.fallback), blocks };
}
