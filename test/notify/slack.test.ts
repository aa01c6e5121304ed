import { afterEach, describe, expect, it } from "vitest";
import type { NotifyEventName } from "../../src/core/ports.js";
import { createNotifier } from "../../src/notify/index.js";
import { summarize } from "../../src/notify/message.js";
import { type SlackMessage, slackLimits, slackMessage } from "../../src/notify/slack.js";
import { event, recordId } from "./fixtures.js";
import { type Receiver, receiver } from "./receiver.js";

const open: Receiver[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});
async function listen(...args: Parameters<typeof receiver>): Promise<Receiver> {
  const r = await receiver(...args);
  open.push(r);
  return r;
}

const slackChannel = [{ type: "slack" as const, webhookUrlEnv: "OPTOUT_SLACK_WEBHOOK_URL" }];

function fieldTexts(m: SlackMessage): string[] {
  const section = m.blocks.find((b) => b.type === "section" && b.fields);
  return section && section.type === "section" ? (section.fields ?? []).map((f) => f.text) : [];
}

describe("slack channel", () => {
  it("posts a readable Block Kit message with every fact a responder needs", async () => {
    const r = await listen();
    const notifier = createNotifier({
      channels: slackChannel,
      env: { OPTOUT_SLACK_WEBHOOK_URL: `${r.url}/services/T000/B000/XXXXXXXXXXXX` },
    });
    const e = event("applied");
    e.links.run = "https://github.com/acme/shop/actions/runs/42";
    const results = await notifier.announce(e);

    expect(results).toEqual([{ channel: "slack", status: "sent", attempts: 1 }]);
    expect(r.requests).toHaveLength(1);
    const req = r.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.path).toBe("/services/T000/B000/XXXXXXXXXXXX");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["user-agent"]).toMatch(/^optout\/\d+\.\d+\.\d+/);

    const m = JSON.parse(req.body.toString("utf8")) as SlackMessage;
    expect(m.blocks.map((b) => b.type)).toEqual(["header", "section", "actions", "context"]);
    const header = m.blocks[0]!;
    expect(header.type === "header" && header.text).toEqual({
      type: "plain_text",
      text: "⚠️ lint waived on main @ 3f2a9c1 by dana",
      emoji: true,
    });
    const fields = fieldTexts(m);
    const all = fields.join("\n");
    for (const needle of [
      "*Actor*\ndana",
      "skip lint on main @ 3f2a9c1",
      "linter crashes on node 22, INC-4411",
      "*Ticket*\nINC-4411",
      "*Expiry*\n2025-03-01T07:04:05.000Z",
      recordId,
      `\`optout revert ${recordId}\``,
      "acme/shop",
    ]) {
      expect(all).toContain(needle);
    }
    for (const f of fields) expect(f.length).toBeLessThanOrEqual(slackLimits.field);
    expect(fields.length).toBeLessThanOrEqual(slackLimits.fields);
    const actions = m.blocks[2]!;
    expect(actions.type === "actions" && actions.elements.map((b) => [b.type, b.url])).toEqual([
      ["button", e.links.record],
      ["button", "https://github.com/acme/shop/actions/runs/42"],
    ]);
    expect(m.text).toContain("lint waived on main");
    expect(m.text).toContain(`optout revert ${recordId}`);
  });

  it("previews exactly the body it sends, without the webhook URL", async () => {
    const r = await listen();
    const notifier = createNotifier({
      channels: slackChannel,
      env: { OPTOUT_SLACK_WEBHOOK_URL: `${r.url}/services/T000/B000/XXXXXXXXXXXX` },
    });
    const e = event("reverted", {
      type: "revert",
      op: "skip",
      links: { reverts: "01JB8Z0000000000000000000A" },
    });
    const [preview] = notifier.preview(e);
    await notifier.announce(e);
    const sent = JSON.parse(r.requests[0]!.body.toString("utf8")) as SlackMessage;
    expect(preview).toEqual({ channel: "slack", payload: { to: "$OPTOUT_SLACK_WEBHOOK_URL", body: sent } });
    expect(fieldTexts(sent)).toContain(`*Record*\n${recordId} (reverts 01JB8Z0000000000000000000A)`);
    expect(JSON.stringify(preview)).not.toContain(r.url);
  });

  it("says 'no expiry' when the override has none", () => {
    const m = slackMessage(summarize(event("applied", { expiresAt: null })));
    expect(fieldTexts(m)).toContain("*Expiry*\nno expiry");
  });

  it("neutralises escape sequences and Slack control syntax in user text", () => {
    const reason =
      "\u001b[2J\u001b]0;pwned\u0007 <!channel> <!here|here> <@U024BE7LH> <https://evil.example|click> & ok\u202e";
    const m = slackMessage(
      summarize(
        event("applied", {
          reason,
          ticket: "<!everyone>",
          actor: { provider: "github", login: "da<na>", id: "1" },
        }),
      ),
    );
    const json = JSON.stringify(m);
    // Our own blocks never need a raw "<": any that appears came from user text.
    expect(json).not.toContain("<");
    expect(json).not.toMatch(/\\u001b|\\u0007|\u202e/);
    const reasonField = fieldTexts(m).find((f) => f.startsWith("*Reason*"))!;
    expect(reasonField).toContain("&lt;!channel&gt;");
    expect(reasonField).toContain("&lt;https://evil.example|click&gt; &amp; ok");
    expect(fieldTexts(m)).toContain("*Ticket*\n&lt;!everyone&gt;");
  });

  it("keeps every text within Block Kit limits without cutting an entity in half", () => {
    const m = slackMessage(
      summarize(
        event("failed", {
          reason: "&".repeat(5000),
          error: "<".repeat(9000),
          target: { stage: "s".repeat(400), ref: "main", sha: null },
        }),
      ),
    );
    const header = m.blocks[0]!;
    expect(header.type === "header" && header.text.text.length).toBeLessThanOrEqual(slackLimits.header);
    const reasonField = fieldTexts(m).find((f) => f.startsWith("*Reason*"))!;
    expect(reasonField.length).toBeLessThanOrEqual(slackLimits.field);
    expect(reasonField.endsWith("&amp;…")).toBe(true);
    const errorBlock = m.blocks.find((b) => b.type === "section" && b.text);
    const errorText = errorBlock?.type === "section" ? (errorBlock.text?.text ?? "") : "";
    expect(errorText.length).toBeLessThanOrEqual(slackLimits.sectionText);
    expect(errorText).toMatch(/^\*Error\*\n(&lt;)+…$/);
    expect(m.text.length).toBeLessThanOrEqual(slackLimits.fallback);
  });

  it.each<[NotifyEventName, RegExp]>([
    ["applied", /lint waived on main @ 3f2a9c1 by dana/],
    ["pending", /Request pending approval: skip lint on main/],
    ["approved", /Request approved by dana/],
    ["rejected", /Request rejected by dana/],
    ["reverted", /Override reverted by dana: skip lint/],
    ["expired", /Override expired: skip lint/],
    ["denied", /Denied attempt by dana: skip lint/],
    ["failed", /Override failed: skip lint on main @ 3f2a9c1 by dana/],
    ["test", /test notification for acme\/shop/],
  ])("titles the %s event clearly", (name, title) => {
    expect(summarize(event(name)).title).toMatch(title);
  });

  it("titles other override types in words", () => {
    const t = (over: Parameters<typeof event>[1]) => summarize(event("applied", over)).title;
    expect(
      t({
        type: "flag",
        target: { flag: "DEPLOY_FREEZE_BYPASS", env: "production" },
        params: { value: "true" },
      }),
    ).toBe("⚠️ DEPLOY_FREEZE_BYPASS set to true in production by dana");
    expect(
      t({
        type: "rollout",
        target: { env: "production", artifact: `ghcr.io/acme/shop@sha256:${"a".repeat(64)}` },
      }),
    ).toBe("⚠️ Artifact-only rollout to production by dana");
    expect(t({ type: "failover", target: { target: "eu-west-1", env: null } })).toBe(
      "⚠️ Failover to eu-west-1 by dana",
    );
  });

  it("shows the approve command for a pending request", () => {
    const e = event("pending", { type: "request", op: "skip", outcome: "pending" });
    e.links = { approve: `optout approve ${recordId}` };
    const fields = fieldTexts(slackMessage(summarize(e)));
    expect(fields).toContain(`*Approve*\n\`optout approve ${recordId}\``);
  });

  it("fails without throwing when the webhook env var is missing or empty", async () => {
    for (const env of [{}, { OPTOUT_SLACK_WEBHOOK_URL: "" }]) {
      const results = await createNotifier({ channels: slackChannel, env }).announce(event());
      expect(results).toEqual([
        { channel: "slack", status: "failed", attempts: 0, error: "OPTOUT_SLACK_WEBHOOK_URL is not set" },
      ]);
    }
  });

  it("never puts the webhook URL in an error, a log line or the preview", async () => {
    const token = "Zq8sLk2PwX9mNc4vRt7yHb1j";
    // The receiver echoes the path it was called on, as a misbehaving proxy might.
    const r = await listen([{ status: 404, body: `no_service /services/T0/B0/${token}` }]);
    const url = `${r.url}/services/T0/B0/${token}`;
    const lines: string[] = [];
    const notifier = createNotifier({
      channels: slackChannel,
      env: { OPTOUT_SLACK_WEBHOOK_URL: url },
      log: (l) => lines.push(l),
    });
    const [result] = await notifier.announce(event());
    expect(result).toMatchObject({ channel: "slack", status: "failed", attempts: 1 });
    expect(result?.error).toMatch(/^HTTP 404: no_service/);
    const preview = JSON.stringify(notifier.preview(event()));
    expect(preview).toContain("$OPTOUT_SLACK_WEBHOOK_URL");
    for (const text of [result?.error ?? "", ...lines, preview]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(r.url);
    }
  });
});
