/** Every override is announced; a broken channel never fails or blocks the override. */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { basePolicy, makeWorld } from "../helpers/world.js";
import { receiver } from "../notify/receiver.js";

const secret = "webhook-secret-for-tests-0123456789";

describe("announcements through the CLI", () => {
  it("a skip is announced to a signed webhook; a dead channel is reported and kept (exit 5)", async () => {
    const good = await receiver([{ status: 200, body: "ok" }]);
    const bad = await receiver([{ status: 500, body: "down" }]);
    const w = await makeWorld({
      policy: basePolicy({
        notify: [
          { type: "webhook", url: `${good.url}/hook`, secretEnv: "OPTOUT_WEBHOOK_SECRET" },
          { type: "webhook", url: `${bad.url}/hook` },
          { type: "issue", number: 42 },
        ],
      }),
    });
    try {
      const env = { OPTOUT_WEBHOOK_SECRET: secret };
      const r = await w.run("alice", ["skip", "lint", "--reason", "linter crashes on node 22", "--json"], {
        env,
      });
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toMatch(/notification to webhook#2 failed; it is kept locally/);
      const out = JSON.parse(r.stdout);
      expect(out.notifications).toEqual([
        { channel: "webhook", status: "sent", attempts: 1 },
        expect.objectContaining({ channel: "webhook#2", status: "failed" }),
        expect.objectContaining({ channel: "issue", status: "skipped" }),
      ]);
      expect(r.stderr).toMatch(/warning: notification to webhook#2 failed/);
      // How each delivery went is on the ledger too, in a result record after the override.
      expect(out.result).toMatchObject({
        type: "result",
        links: { intent: out.id },
        notifications: out.notifications,
      });
      const ledger = JSON.parse((await w.run("bob", ["log", "--json", "--limit", "1"])).stdout).records;
      expect(ledger[0].notifications.map((n: { status: string }) => n.status)).toEqual([
        "sent",
        "failed",
        "skipped",
      ]);
      expect(good.requests).toHaveLength(1);
      const req = good.requests[0]!;
      const expected = `sha256=${createHmac("sha256", secret).update(req.body).digest("hex")}`;
      expect(req.headers["x-optout-signature-256"]).toBe(expected);
      expect(req.headers["x-optout-event"]).toBe("applied");
      const body = JSON.parse(req.body.toString());
      expect(body).toMatchObject({
        event: "applied",
        repo: "acme/shop",
        record: { id: out.id, type: "skip" },
      });
      expect(body.links.revert).toBe(`optout revert ${out.id}`);
      for (const text of [r.stdout, r.stderr]) expect(text).not.toContain(secret);

      // A denial is announced too.
      await w.run("carol", ["skip", "lint", "--reason", "not carol's call to make"], { env });
      const test = await w.run("alice", ["notify", "test", "--json"], { env });
      expect(test.code).toBe(1);
      expect(JSON.parse(test.stdout).results[0]).toMatchObject({ channel: "webhook", status: "sent" });
      expect(good.requests.map((q) => q.headers["x-optout-event"])).toEqual(["applied", "test"]);

      const dry = await w.run("alice", ["skip", "e2e", "--reason", "e2e env is down again", "--dry-run"], {
        env,
      });
      expect(dry.code).toBe(0);
      expect(good.requests).toHaveLength(2);
    } finally {
      await w.cleanup();
      await good.close();
      await bad.close();
    }
  });

  it("a failed announcement is kept locally and `optout sync` delivers it; a dry run lists it", async () => {
    const flaky = await receiver([{ status: 503 }, { status: 503 }, { status: 503 }, { status: 200 }]);
    const w = await makeWorld({
      policy: basePolicy({ notify: [{ type: "webhook", url: `${flaky.url}/hook` }] }),
    });
    try {
      const dry = await w.run("alice", [
        "skip",
        "lint",
        "--reason",
        "linter crashes on node 22",
        "--dry-run",
        "--json",
      ]);
      expect(dry.code, dry.stderr).toBe(0);
      expect(JSON.parse(dry.stdout).notifications).toEqual([
        {
          channel: "webhook",
          status: "dry-run",
          attempts: 0,
          payload: expect.objectContaining({
            to: `${flaky.url}/hook`,
            body: expect.objectContaining({ event: "applied" }),
          }),
        },
      ]);
      const text = await w.run("alice", [
        "skip",
        "lint",
        "--reason",
        "linter crashes on node 22",
        "--dry-run",
      ]);
      expect(text.stdout).toMatch(/notify webhook \(http:\/\/127\.0\.0\.1:\d+\/hook\)/);
      expect(flaky.requests).toHaveLength(0);

      const r = await w.run("alice", ["skip", "lint", "--reason", "linter crashes on node 22", "--json"]);
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toMatch(/hint: run `optout sync`/);
      const id = JSON.parse(r.stdout).id;
      expect(flaky.requests).toHaveLength(3);
      // The skip itself is in force: only its announcement is owed.
      expect((await w.run("bob", ["guard", "lint"])).code).toBe(0);

      const sync = await w.run("alice", ["sync", "--json"]);
      expect(sync.code, sync.stderr).toBe(0);
      expect(JSON.parse(sync.stdout).notifications).toEqual([
        { id, event: "applied", channel: "webhook", status: "sent" },
      ]);
      expect(flaky.requests).toHaveLength(4);
      expect(JSON.parse(flaky.requests[3]!.body.toString())).toMatchObject({
        event: "applied",
        record: { id },
      });
      expect((await w.run("alice", ["sync"])).stdout.trim()).toBe("nothing to sync");
    } finally {
      await w.cleanup();
      await flaky.close();
    }
  });
});
