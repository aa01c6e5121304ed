import { afterEach, describe, expect, it } from "vitest";
import { channelNames, createNotifier, testEvent } from "../../src/notify/index.js";
import { event } from "./fixtures.js";
import { deadPort, type Receiver, receiver } from "./receiver.js";

const open: Receiver[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});
async function listen(...args: Parameters<typeof receiver>): Promise<Receiver> {
  const r = await receiver(...args);
  open.push(r);
  return r;
}

describe("fan-out and delivery bounds", () => {
  it("a receiver that never answers costs its own channel a timeout; the others are delivered", async () => {
    const stuck = await listen(["hang"]);
    const fine = await listen();
    const comments: number[] = [];
    const notifier = createNotifier({
      channels: [
        { type: "slack", webhookUrlEnv: "OPTOUT_SLACK_WEBHOOK_URL" },
        { type: "webhook", url: `${fine.url}/optout` },
        { type: "issue", number: 42 },
      ],
      env: { OPTOUT_SLACK_WEBHOOK_URL: `${stuck.url}/services/T0/B0/abcdefgh` },
      issueCommenter: async (n) => {
        comments.push(n);
      },
      timeoutMs: 300,
      retries: 1,
    });

    const started = Date.now();
    const results = await notifier.announce(event());
    // A generous bound: it proves announce does not hang, not how fast it is.
    expect(Date.now() - started).toBeLessThan(5000);

    expect(results).toEqual([
      { channel: "slack", status: "failed", attempts: 2, error: "timed out after 300 ms" },
      { channel: "webhook", status: "sent", attempts: 1 },
      { channel: "issue", status: "sent", attempts: 1 },
    ]);
    // Under load the second attempt may time out before its body reaches the receiver.
    expect(stuck.requests.length).toBeGreaterThanOrEqual(1);
    expect(fine.requests).toHaveLength(1);
    expect(comments).toEqual([42]);
  });

  it("reports a refused connection by its code, after the retries, without the address", async () => {
    const port = await deadPort();
    const [result] = await createNotifier({
      channels: [{ type: "webhook", url: `http://127.0.0.1:${port}/hook` }],
      env: {},
      timeoutMs: 500,
      retries: 1,
    }).announce(event());
    expect(result).toEqual({
      channel: "webhook",
      status: "failed",
      attempts: 2,
      error: "network error (ECONNREFUSED)",
    });
  });

  it("names repeated channel types with a suffix", () => {
    expect(
      channelNames([
        { type: "slack", webhookUrlEnv: "A" },
        { type: "webhook", url: "https://a.example" },
        { type: "slack", webhookUrlEnv: "B" },
        { type: "issue", number: 1 },
        { type: "webhook", url: "https://b.example" },
        { type: "webhook", url: "https://c.example" },
      ]),
    ).toEqual(["slack", "webhook", "slack#2", "issue", "webhook#2", "webhook#3"]);
  });

  it("never throws: configuration problems become per-channel results", async () => {
    const results = await createNotifier({
      channels: [
        { type: "slack", webhookUrlEnv: "MISSING_URL" },
        { type: "slack", webhookUrlEnv: "NOT_A_URL" },
        { type: "webhook", url: "ftp://files.example/x" },
        { type: "issue", number: 7 },
      ],
      env: { NOT_A_URL: "hooks.slack.com/services/x" },
    }).announce(event());
    expect(results).toEqual([
      { channel: "slack", status: "failed", attempts: 0, error: "MISSING_URL is not set" },
      { channel: "slack#2", status: "failed", attempts: 0, error: "NOT_A_URL is not an http(s) URL" },
      { channel: "webhook", status: "failed", attempts: 0, error: "the webhook URL is not an http(s) URL" },
      {
        channel: "issue",
        status: "skipped",
        attempts: 0,
        error: "issue comments need a GitHub or GitLab provider",
      },
    ]);
  });

  it("with no channels, announces nothing and resolves", async () => {
    expect(await createNotifier({ channels: [], env: {} }).announce(event())).toEqual([]);
  });

  it("sends the test event to a receiver", async () => {
    const r = await listen();
    const e = testEvent({
      repo: "acme/shop",
      actor: { provider: "github", login: "dana", id: "1" },
      id: "01JB8Z3K4M5N6P7Q8R9S0T1V2X",
      now: new Date("2025-03-01T00:00:00Z"),
    });
    const results = await createNotifier({
      channels: [{ type: "webhook", url: r.url }],
      env: {},
    }).announce(e);
    expect(results[0]?.status).toBe("sent");
    expect(r.requests[0]?.headers["x-optout-event"]).toBe("test");
  });
});
