/**
 * GitHub App authentication for bots: OPTOUT_GITHUB_APP_ID and OPTOUT_GITHUB_APP_PRIVATE_KEY
 * become an installation token for the repository (@octokit/auth-app signs the JWT; the fake
 * verifies it with the app's public key), the bot is the actor, `auth status` names the source,
 * and what the token may not do (GITHUB_TOKEN and Actions variables) says so.
 */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { runAuthStatus } from "../../src/commands/auth/run.js";
import { runSkip } from "../../src/commands/skip/run.js";
import { githubPolicy, useHarness } from "./harness.js";

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();

const h = useHarness(
  githubPolicy({
    // The bot signs with the key allowed_signers gives "alice" in this test world.
    signers: { "optout-bot[bot]": "alice" },
    stages: {
      scan: { mechanism: "variable", variable: "OPTOUT_SKIP_SCAN", allow: ["user:optout-bot[bot]"] },
      lint: { mechanism: "status", context: "ci/lint", allow: ["user:optout-bot[bot]"] },
      e2e: { mechanism: "status", context: "ci/e2e", allow: ["user:alice"] },
    },
  }),
);

const reason = "nightly expiry job, no human around";

function appWorld(permissions: Record<string, string>) {
  const app = h.fake.world.addApp("optout-bot", publicPem, permissions);
  const installation = 4242;
  app.installations.set("acme/shop", installation);
  h.fake.world.addUser("optout-bot[bot]", `ghu_unused${"0".repeat(30)}`);
  const env = {
    OPTOUT_GITHUB_TOKEN: "",
    OPTOUT_GITHUB_APP_ID: String(app.id),
    // As a CI secret often holds it: one line, literal \n.
    OPTOUT_GITHUB_APP_PRIVATE_KEY: pem.trim().replaceAll("\n", "\\n"),
    // A workflow always has one: the App must win over it.
    GITHUB_TOKEN: `ghs_${"9".repeat(36)}`,
  };
  return { app, installation, env };
}

describe("GitHub App authentication", () => {
  it("turns the app's id and key into an installation token; the bot acts; auth status names the source", async () => {
    const { app, installation, env } = appWorld({ statuses: "write", actions_variables: "write" });
    const { f, out } = h.factory("alice", { env });
    await runAuthStatus(f);
    expect(out.stdout).toContain("github: logged in as optout-bot[bot]");
    expect(out.stdout).toContain(
      `token from GitHub App optout-bot (id ${app.id}, installation ${installation})`,
    );
    // The installation is looked up with the app's JWT, then a token for this one repository.
    expect(h.fake.lines().slice(0, 3)).toEqual([
      "GET /repos/acme/shop/installation",
      `POST /app/installations/${installation}/access_tokens`,
      "GET /users/optout-bot%5Bbot%5D",
    ]);
    expect(h.fake.requests[1]!.body).toEqual({ repositories: ["shop"] });
    expect(h.fake.requests[0]!.authorization).toMatch(/^bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(h.fake.requests[2]!.authorization).toMatch(/^token ghs_/);
    expect([out.stdout, out.stderr, ...out.log].join("\n")).not.toContain("PRIVATE KEY");
  });

  it("a status skip by the bot: the installation token posts it", async () => {
    const { env } = appWorld({ statuses: "write" });
    const { f } = h.factory("alice", { env });
    await runSkip(f, { stage: "lint", ref: "main", reason });
    const sha = h.repo().branches.get("main")!;
    expect(h.repo().latest(sha, "ci/lint")).toMatchObject({ state: "success", creator: "optout-bot[bot]" });
  });

  it("a token without the Actions variables permission (like GITHUB_TOKEN) is refused, naming it", async () => {
    const { env } = appWorld({ statuses: "write" });
    const { f } = h.factory("alice", { env });
    const err = await runSkip(f, { stage: "scan", ref: "main", reason }).catch((e) => e);
    expect(err).toMatchObject({
      exitCode: 3,
      message: "GitHub refused: token lacks permission to write Actions variables on acme/shop (403)",
    });
    expect(err.hint).toContain("Resource not accessible by integration");
  });

  it("an app that is not installed, and a key that is not the app's, are refused clearly", async () => {
    const { app, env } = appWorld({});
    app.installations.clear();
    let p = await h.factory("alice", { env }).f.provider();
    await expect(p.identity()).rejects.toMatchObject({
      exitCode: 3,
      message: `GitHub App ${app.id} is not installed on acme/shop (404)`,
    });
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
      type: "pkcs1",
      format: "pem",
    });
    p = await h
      .factory("alice", { env: { ...env, OPTOUT_GITHUB_APP_PRIVATE_KEY: other.toString() } })
      .f.provider();
    const err = await p.identity().catch((e) => e);
    expect(err).toMatchObject({
      exitCode: 3,
      message: `GitHub refused GitHub App ${app.id}'s credentials (401)`,
    });
    expect(`${err.message} ${err.hint}`).not.toContain("PRIVATE KEY");
  });

  it("only one of the two variables set: says which is missing", async () => {
    const { f } = h.factory("alice", { env: { OPTOUT_GITHUB_TOKEN: "", OPTOUT_GITHUB_APP_ID: "12" } });
    await expect((await f.provider()).identity()).rejects.toMatchObject({
      exitCode: 3,
      message: "GitHub App authentication needs both OPTOUT_GITHUB_APP_ID and OPTOUT_GITHUB_APP_PRIVATE_KEY",
    });
    expect(h.fake.requests).toEqual([]);
  });
});

describe("GITHUB_TOKEN is an installation token too", () => {
  it("it cannot say who is acting: refused with what to use instead, before anything is recorded", async () => {
    // The shape of GitHub Actions' GITHUB_TOKEN: statuses and actions, never actions_variables.
    const token = `ghs_${"7".repeat(36)}`;
    h.fake.world.users.set(token, {
      login: "github-actions[bot]",
      id: 41898282,
      token,
      installation: {
        appId: 15368,
        repos: new Set(["acme/shop"]),
        permissions: { statuses: "write", actions: "write" },
      },
    });
    const { f } = h.factory("alice", { env: { OPTOUT_GITHUB_TOKEN: "", GITHUB_TOKEN: token } });
    const err = await runSkip(f, { stage: "lint", ref: "main", reason }).catch((e) => e);
    expect(err).toMatchObject({
      exitCode: 3,
      message:
        "GitHub: this token cannot say who is acting (an App installation token, such as GITHUB_TOKEN)",
    });
    expect(h.fake.lines()).toEqual(["GET /user"]);
  });
});
