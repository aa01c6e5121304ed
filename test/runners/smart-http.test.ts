/**
 * The smart-HTTP server the runner tests and the bench serve repositories with: real git clones,
 * fetches and pushes through it, and it counts each request (one network round trip).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SmartHttp, serveGit } from "../helpers/smart-http.js";
import { git } from "../helpers/world.js";

const exec = promisify(execFile);
const env = {
  PATH: process.env.PATH ?? "",
  HOME: tmpdir(),
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_TERMINAL_PROMPT: "0",
};
const run = (cwd: string, ...args: string[]) => exec("git", args, { cwd, env });

let dir: string;
let server: SmartHttp;
let bare: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "optout-smart-http-"));
  bare = join(dir, "shop.git");
  await run(dir, "init", "-q", "--bare", "-b", "main", bare);
  await run(bare, "config", "uploadpack.allowFilter", "true");
  const seed = join(dir, "seed");
  await run(dir, "init", "-q", "-b", "main", seed);
  await writeFile(join(seed, "README"), "a project\n");
  await run(seed, "add", "-A");
  await run(seed, "-c", "user.name=M", "-c", "user.email=m@example.com", "commit", "-q", "-m", "first");
  await run(seed, "push", "-q", bare, "main");
  server = await serveGit({
    repos: { "acme/shop.git": bare },
    pushAuth: { username: "oauth2", password: "s3cret" },
  });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe("serveGit", () => {
  it("serves a shallow, filtered clone over protocol v2, and counts its requests", async () => {
    server.reset();
    const url = server.repoUrl("acme/shop.git");
    await run(
      dir,
      "-c",
      "protocol.version=2",
      "clone",
      "-q",
      "--depth=1",
      "--filter=blob:none",
      url,
      "clone",
    );
    expect(await git(join(dir, "clone"), "log", "--format=%s")).toBe("first");
    expect(await git(join(dir, "clone"), "config", "remote.origin.promisor")).toBe("true");
    // A v2 connection: one GET (capabilities), then one POST per command (ls-refs, fetch); the
    // checkout's blobs come in a second connection, since the clone left them out.
    expect(server.requests.map((r) => `${r.method} ${r.path.split("/").at(-1)}`)).toEqual([
      "GET refs",
      "POST git-upload-pack",
      "POST git-upload-pack",
      "GET refs",
      "POST git-upload-pack",
    ]);
    expect(server.requests.every((r) => r.service === "git-upload-pack" && r.status === 200)).toBe(true);
  });

  it("takes a push from the right user only", async () => {
    const work = join(dir, "clone");
    await expect(run(work, "push", "origin", "main:anonymous")).rejects.toThrow(/could not read Username/);
    await run(
      work,
      "remote",
      "set-url",
      "origin",
      server.repoUrl("acme/shop.git").replace("//", "//oauth2:s3cret@"),
    );
    await writeFile(join(work, "file"), "x\n");
    await run(work, "add", "-A");
    await run(work, "-c", "user.name=M", "-c", "user.email=m@example.com", "commit", "-q", "-m", "second");
    await run(work, "push", "-q", "origin", "main");
    expect(await git(bare, "log", "-1", "--format=%s", "main")).toBe("second");
    expect(server.requests.some((r) => r.service === "git-receive-pack" && r.status === 200)).toBe(true);

    server.reset();
    const wrong = server.repoUrl("acme/shop.git").replace("http://", "http://oauth2:wrong@");
    await expect(run(work, "push", wrong, "main:other")).rejects.toThrow(/Authentication failed/);
    // git sends the URL's credentials only when asked: 401, then 401 again with the wrong ones.
    expect(server.requests.map((r) => r.status)).toEqual([401, 401]);
  });

  it("answers 404 for a repository it does not serve", async () => {
    server.reset();
    await expect(run(dir, "ls-remote", `${server.url}/acme/other.git`)).rejects.toThrow();
    expect(server.requests.map((r) => r.status)).toEqual([404]);
  });
});
