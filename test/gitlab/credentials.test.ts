/**
 * Where the GitLab token comes from (OPTOUT_GITLAB_TOKEN > OPTOUT_GITLAB_OAUTH_TOKEN >
 * GITLAB_TOKEN > CI_JOB_TOKEN > glab's stored login) and how each is sent: PRIVATE-TOKEN,
 * JOB-TOKEN, or `Authorization: Bearer` for OAuth. glab is a real child process here: a script on
 * PATH answering `glab config get <key> --host <host>` as glab does.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { everythingShown, useGitLabWorld } from "./harness.js";

describe("GitLab token sources", () => {
  const g = useGitLabWorld();
  let bin: string;
  const oauth = `oauth-access-${"0a1b".repeat(10)}`;
  beforeAll(async () => {
    bin = await mkdtemp(join(tmpdir(), "optout-glab-"));
    g.gl.user("alice").oauthToken = oauth;
  });
  afterAll(() => rm(bin, { recursive: true, force: true }));

  const none = { OPTOUT_GITLAB_TOKEN: "", OPTOUT_GITLAB_OAUTH_TOKEN: "", GITLAB_TOKEN: "", CI_JOB_TOKEN: "" };

  /** A glab that knows one host's settings, and writes down what it was asked. */
  async function fakeGlab(settings: Record<string, string>): Promise<string> {
    const cases = Object.entries(settings)
      .map(([k, v]) => `  ${k}) echo '${v}' ;;`)
      .join("\n");
    await writeFile(
      join(bin, "glab"),
      `#!/bin/sh\necho "$@" >> "${join(bin, "asked")}"\ncase "$3" in\n${cases}\n  *) exit 1 ;;\nesac\n`,
    );
    await chmod(join(bin, "glab"), 0o755);
    await writeFile(join(bin, "asked"), "");
    return `${bin}:/usr/bin:/bin`;
  }

  it("the environment wins, first OPTOUT_GITLAB_TOKEN, then the OAuth variable, then GITLAB_TOKEN, then CI_JOB_TOKEN", async () => {
    const alice = g.gl.user("alice").token;
    const cases: [Record<string, string>, string, string][] = [
      [
        { OPTOUT_GITLAB_TOKEN: alice, OPTOUT_GITLAB_OAUTH_TOKEN: oauth, GITLAB_TOKEN: "x" },
        "OPTOUT_GITLAB_TOKEN",
        "private",
      ],
      [
        { ...none, OPTOUT_GITLAB_OAUTH_TOKEN: oauth, GITLAB_TOKEN: alice },
        "OPTOUT_GITLAB_OAUTH_TOKEN",
        "bearer",
      ],
      [{ ...none, GITLAB_TOKEN: alice, CI_JOB_TOKEN: "glcbt-unused-0123456789" }, "GITLAB_TOKEN", "private"],
    ];
    for (const [env, source, auth] of cases) {
      g.gl.requests.length = 0;
      const s = await g.as("alice", { noToken: true, env: { ...env, PATH: await fakeGlab({}) } });
      expect(await s.provider.tokenSource()).toBe(source);
      expect((await s.provider.identity()).login).toBe("alice");
      expect(g.gl.requests[0]!.auth).toBe(auth);
    }
    // The environment decided: glab was never asked.
    expect(await readFile(join(bin, "asked"), "utf8")).toBe("");
  });

  it("an OAuth token (gloas-) in a token variable goes as Authorization: Bearer", async () => {
    const gloas = `gloas-${"f".repeat(64)}`;
    g.gl.user("alice").oauthToken = gloas;
    try {
      const s = await g.as("alice", { noToken: true, env: { ...none, GITLAB_TOKEN: gloas } });
      expect((await s.provider.identity()).login).toBe("alice");
      expect(g.gl.requests.map((q) => q.auth)).toEqual(["bearer"]);
      expect(everythingShown(s)).not.toContain(gloas);
    } finally {
      g.gl.user("alice").oauthToken = oauth;
    }
  });

  it("falls back to glab's stored token for this host after the environment", async () => {
    const host = new URL(g.gl.url).host;
    const path = await fakeGlab({ token: g.gl.user("bob").token });
    const s = await g.as("bob", { noToken: true, env: { ...none, PATH: path } });
    expect(await s.provider.tokenSource()).toBe(`glab (${host})`);
    expect((await s.provider.identity()).login).toBe("bob");
    expect(g.gl.requests.map((q) => q.auth)).toEqual(["private"]);
    expect((await readFile(join(bin, "asked"), "utf8")).split("\n")).toEqual([
      `config get token --host ${host}`,
      `config get is_oauth2 --host ${host}`,
      "",
    ]);
  });

  it("a glab login made with OAuth is sent as Bearer; an expired one says how to refresh it", async () => {
    const later = new Date(Date.now() + 3_600_000).toUTCString();
    let s = await g.as("alice", {
      noToken: true,
      env: { ...none, PATH: await fakeGlab({ token: oauth, is_oauth2: "true", oauth2_expiry_date: later }) },
    });
    expect((await s.provider.identity()).login).toBe("alice");
    expect(g.gl.requests.map((q) => q.auth)).toEqual(["bearer"]);

    g.gl.requests.length = 0;
    const past = new Date(Date.now() - 60_000).toUTCString();
    s = await g.as("alice", {
      noToken: true,
      env: { ...none, PATH: await fakeGlab({ token: oauth, is_oauth2: "true", oauth2_expiry_date: past }) },
    });
    const e = await s.provider.identity().catch((x: unknown) => x);
    expect(e).toMatchObject({ exitCode: 3 });
    expect((e as Error).message).toMatch(/^glab's OAuth login for 127\.0\.0\.1:\d+ expired at /);
    expect((e as { hint: string }).hint).toBe(
      "run `glab auth status` (glab refreshes it), or set OPTOUT_GITLAB_TOKEN",
    );
    expect(g.gl.requests).toEqual([]);
  });
});
