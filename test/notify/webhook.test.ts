import { createHmac, timingSafeEqual } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { NotificationResult } from "../../src/core/ports.js";
import { createNotifier } from "../../src/notify/index.js";
import { event, recordId, skipRecord } from "./fixtures.js";
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

const secret = "whsec_4f9a7c2e8b1d6a3f0e5c9b7a";
const env = { OPTOUT_WEBHOOK_SECRET: secret };

function notifierFor(url: string, extra: { log?: (l: string) => void; secretEnv?: string | null } = {}) {
  const secretEnv = extra.secretEnv === undefined ? "OPTOUT_WEBHOOK_SECRET" : extra.secretEnv;
  return createNotifier({
    channels: [{ type: "webhook", url, ...(secretEnv ? { secretEnv } : {}) }],
    env,
    retries: 2,
    ...(extra.log ? { log: extra.log } : {}),
  });
}

/** What a receiver does: HMAC the raw bytes with the shared secret, compare in constant time. */
function verifies(body: Buffer, header: string | string[] | undefined): boolean {
  if (typeof header !== "string" || !header.startsWith("sha256=")) return false;
  const expected = Buffer.from(createHmac("sha256", secret).update(body).digest("hex"), "hex");
  const got = Buffer.from(header.slice("sha256=".length), "hex");
  return got.length === expected.length && timingSafeEqual(got, expected);
}

describe("webhook channel", () => {
  it("retries a 500, signs every attempt, and keeps one delivery id across retries", async () => {
    const r = await listen([{ status: 500, body: "boom" }, { status: 204 }]);
    const results = await notifierFor(`${r.url}/optout`).announce(event("applied"));

    expect(results).toEqual([{ channel: "webhook", status: "sent", attempts: 2 }]);
    expect(r.requests).toHaveLength(2);
    const [first, second] = r.requests as [(typeof r.requests)[0], (typeof r.requests)[0]];
    for (const req of [first, second]) {
      expect(req.method).toBe("POST");
      expect(req.path).toBe("/optout");
      expect(req.headers["content-type"]).toBe("application/json");
      expect(req.headers["user-agent"]).toMatch(/^optout\/\d+\.\d+\.\d+/);
      expect(req.headers["x-optout-event"]).toBe("applied");
      expect(req.headers["x-optout-delivery"]).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(verifies(req.body, req.headers["x-optout-signature-256"])).toBe(true);
    }
    expect(second.headers["x-optout-delivery"]).toBe(first.headers["x-optout-delivery"]);
    expect(second.body.equals(first.body)).toBe(true);

    const body = JSON.parse(first.body.toString("utf8")) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["event", "links", "record", "repo"]);
    expect(body).toEqual({
      event: "applied",
      record: skipRecord(),
      repo: "acme/shop",
      links: event().links,
    });
  });

  it("uses a new delivery id for a new announcement", async () => {
    const r = await listen();
    const n = notifierFor(r.url);
    await n.announce(event());
    await n.announce(event());
    expect(r.requests[0]?.headers["x-optout-delivery"]).not.toBe(r.requests[1]?.headers["x-optout-delivery"]);
  });

  it("detects a tampered body: the signature covers the exact bytes", async () => {
    const r = await listen();
    await notifierFor(r.url).announce(event());
    const req = r.requests[0]!;
    const tampered = Buffer.from(req.body.toString("utf8").replace("dana", "dona"));
    expect(verifies(tampered, req.headers["x-optout-signature-256"])).toBe(false);
  });

  it("does not retry a 400", async () => {
    const r = await listen([{ status: 400, body: "bad payload" }]);
    const [result] = await notifierFor(r.url).announce(event());
    expect(result).toEqual({
      channel: "webhook",
      status: "failed",
      attempts: 1,
      error: "HTTP 400: bad payload",
    });
    expect(r.requests).toHaveLength(1);
  });

  it("retries a 429 after a short Retry-After, and gives up at once on a long one", async () => {
    const short = await listen([{ status: 429, headers: { "retry-after": "0" } }, { status: 200 }]);
    expect(await notifierFor(short.url).announce(event())).toEqual([
      { channel: "webhook", status: "sent", attempts: 2 },
    ]);

    const long = await listen([{ status: 429, headers: { "retry-after": "3600" } }, { status: 200 }]);
    const [result] = await notifierFor(long.url).announce(event());
    expect(result).toMatchObject({ status: "failed", attempts: 1 });
    expect(result?.error).toMatch(/^HTTP 429 \(asked to retry after 3600 s, beyond the time budget\)$/);
    expect(long.requests).toHaveLength(1);
  });

  it("does not follow a redirect with the signed payload", async () => {
    const elsewhere = await listen();
    const r = await listen([{ status: 307, headers: { location: `${elsewhere.url}/steal` } }]);
    const [result] = await notifierFor(r.url).announce(event());
    expect(result).toMatchObject({
      status: "failed",
      attempts: 1,
      error: "HTTP 307 (redirects are not followed)",
    });
    expect(elsewhere.requests).toHaveLength(0);
  });

  it("refuses to send unsigned when the named secret env var is missing", async () => {
    const r = await listen();
    const results = await createNotifier({
      channels: [{ type: "webhook", url: r.url, secretEnv: "OPTOUT_WEBHOOK_SECRET" }],
      env: {},
    }).announce(event());
    expect(results).toEqual([
      {
        channel: "webhook",
        status: "failed",
        attempts: 0,
        error: "OPTOUT_WEBHOOK_SECRET is not set; not sending unsigned",
      },
    ]);
    expect(r.requests).toHaveLength(0);
  });

  it("sends without a signature header when the policy names no secret", async () => {
    const r = await listen();
    const results = await notifierFor(r.url, { secretEnv: null }).announce(event());
    expect(results[0]?.status).toBe("sent");
    expect(r.requests[0]?.headers["x-optout-signature-256"]).toBeUndefined();
  });

  it("previews the exact body and headers with the signature left out", () => {
    const n = notifierFor("https://hooks.example.com/optout?token=abcdef123456");
    const [p] = n.preview(event("reverted"));
    expect(p?.channel).toBe("webhook");
    expect(p?.payload).toMatchObject({
      to: "https://hooks.example.com/optout?token=***",
      headers: {
        "Content-Type": "application/json",
        "X-Optout-Event": "reverted",
        "X-Optout-Signature-256": "<signed with $OPTOUT_WEBHOOK_SECRET>",
      },
      body: { event: "reverted", repo: "acme/shop", record: { id: recordId } },
    });
    const text = JSON.stringify(p);
    expect(text).not.toContain(secret);
    expect(text).not.toContain("abcdef123456");
  });

  it("never puts the URL or the secret in errors or log lines", async () => {
    const lines: string[] = [];
    const results: NotificationResult[] = [];
    const echo = await listen([{ status: 403, body: `denied for ${secret} at /hook?key=k3y-value-9` }]);
    const down = await listen([{ status: 503, body: "down" }]);
    for (const url of [`${echo.url}/hook?key=k3y-value-9`, `${down.url}/hook?key=k3y-value-9`]) {
      results.push(...(await notifierFor(url, { log: (l) => lines.push(l) }).announce(event())));
    }
    expect(results.map((r) => r.status)).toEqual(["failed", "failed"]);
    expect(results[1]?.attempts).toBe(3);
    const everything = [...results.map((r) => r.error ?? ""), ...lines].join("\n");
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain("k3y-value-9");
    expect(everything).not.toContain(echo.url);
    expect(everything).not.toContain(down.url);
  });
});
