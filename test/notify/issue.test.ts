import { describe, expect, it } from "vitest";
import { createNotifier } from "../../src/notify/index.js";
import { codeSpan, mdText } from "../../src/notify/issue.js";
import { event, recordId } from "./fixtures.js";

const channel = [{ type: "issue" as const, number: 42 }];

describe("issue channel", () => {
  it("comments markdown with the actor, reason and revert command on the tracking issue", async () => {
    const calls: { issue: number; markdown: string }[] = [];
    const notifier = createNotifier({
      channels: channel,
      env: {},
      issueCommenter: async (issue, markdown) => {
        calls.push({ issue, markdown });
      },
    });
    const results = await notifier.announce(event("applied"));

    expect(results).toEqual([{ channel: "issue", status: "sent", attempts: 1 }]);
    expect(calls).toHaveLength(1);
    const { issue, markdown } = calls[0]!;
    expect(issue).toBe(42);
    expect(markdown).toMatch(/^### ⚠️ lint waived on main @ 3f2a9c1 by dana\n/);
    expect(markdown).toContain("- **Actor:** `dana`");
    expect(markdown).toContain("- **Override:** `skip lint on main @ 3f2a9c1`");
    expect(markdown).toContain("- **Ticket:** `INC-4411`");
    expect(markdown).toContain("- **Expiry:** `2025-03-01T07:04:05.000Z`");
    expect(markdown).toContain(`- **Revert:** \`optout revert ${recordId}\``);
    expect(markdown).toContain("```text\nlinter crashes on node 22, INC-4411\n```");
    expect(markdown).toContain(`([view](${event().links.record}))`);
    // The preview is the same markdown.
    expect(notifier.preview(event("applied"))).toEqual([
      { channel: "issue", payload: { issue: 42, markdown } },
    ]);
  });

  it("keeps user text inert: no mentions, images, HTML or escapes outside a code block", async () => {
    let markdown = "";
    const reason = "@acme/oncall look ![x](https://evil.example/t.png) <img src=x> \u001b[31m```\nbreak out";
    await createNotifier({
      channels: channel,
      env: {},
      issueCommenter: async (_n, md) => {
        markdown = md;
      },
    }).announce(event("applied", { reason }));
    expect(markdown).not.toContain("\u001b");
    // The reason sits in a fence longer than any backtick run inside it.
    expect(markdown).toContain(
      "````text\n@acme/oncall look ![x](https://evil.example/t.png) <img src=x> ```\nbreak out\n````",
    );
    const outside = markdown.replace(/````text[\s\S]*?````/, "");
    expect(outside).not.toMatch(/@acme|!\[|<img/);
  });

  it("escapes markdown and breaks mentions in prose, and sizes code spans to their content", () => {
    expect(mdText("@team *bold* [x](y)")).toBe("@\u200bteam \\*bold\\* \\[x\\]\\(y\\)");
    expect(codeSpan("a`b")).toBe("``a`b``");
    expect(codeSpan("`x`")).toBe("`` `x` ``");
  });

  it("is skipped without a forge provider, and the preview says why", async () => {
    const notifier = createNotifier({ channels: channel, env: {} });
    expect(await notifier.announce(event())).toEqual([
      {
        channel: "issue",
        status: "skipped",
        attempts: 0,
        error: "issue comments need a GitHub or GitLab provider",
      },
    ]);
    expect(notifier.preview(event())[0]?.payload).toMatchObject({
      issue: 42,
      problem: "issue comments need a GitHub or GitLab provider",
    });
  });

  it("a commenter that fails, throws or hangs gives a failed result within the budget", async () => {
    let aborted = false;
    const commenters = [
      async () => {
        throw new Error("GitHub refused: token lacks permission to comment on acme/shop (403)");
      },
      () => {
        throw new Error("sync boom");
      },
      (_n: number, _md: string, signal?: AbortSignal) =>
        new Promise<void>(() => {
          signal?.addEventListener("abort", () => {
            aborted = true;
          });
        }),
    ];
    const errors: (string | undefined)[] = [];
    for (const issueCommenter of commenters) {
      const [r] = await createNotifier({
        channels: channel,
        env: {},
        issueCommenter,
        timeoutMs: 100,
        retries: 0,
      }).announce(event());
      expect(r).toMatchObject({ channel: "issue", status: "failed", attempts: 1 });
      errors.push(r?.error);
    }
    expect(errors).toEqual([
      "GitHub refused: token lacks permission to comment on acme/shop (403)",
      "sync boom",
      "timed out after 100 ms",
    ]);
    expect(aborted).toBe(true);
  });
});
