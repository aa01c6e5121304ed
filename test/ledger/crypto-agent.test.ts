import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FailedError, UsageError } from "../../src/errors.js";
import { agentSign, listIdentities } from "../../src/ledger/agent.js";
import { loadSigner, parsePublicKeyLine } from "../../src/ledger/keys.js";
import { signSshsig, verifySshsig } from "../../src/ledger/sshsig.js";
import {
  allowedSignersLine,
  makeKey,
  sshKeygenVerify,
  startAgent,
  type TestAgent,
  type TestKey,
} from "../helpers/keys.js";

const ns = "optout-audit";
const passphrase = "correct horse battery staple";
let dir: string;
let agent: TestAgent;
let locked: TestKey;
let other: TestKey;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "optout-agent-test-"));
  [locked, other] = await Promise.all([makeKey(dir, "locked", { passphrase }), makeKey(dir, "other")]);
  agent = await startAgent();
});
afterAll(async () => {
  await agent?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("with a real ssh-agent", () => {
  test("a key not yet added → UsageError (exit 2) naming the key, hint ssh-add <path>", async () => {
    const e = await loadSigner(locked.privatePath, { SSH_AUTH_SOCK: agent.sock }).catch(
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).exitCode).toBe(2);
    expect((e as UsageError).message).toMatch(
      /locked \(SHA256:[A-Za-z0-9+/]{43}\) is not loaded in ssh-agent/,
    );
    expect((e as UsageError).hint).toBe(`load it into ssh-agent: ssh-add ${locked.privatePath}`);
  });

  test("encrypted key, added with its passphrase via SSH_ASKPASS, signs; ssh-keygen -Y verify accepts", async () => {
    await agent.add(locked.privatePath, passphrase);
    const signer = await loadSigner(locked.privatePath, { SSH_AUTH_SOCK: agent.sock });
    expect(signer.publicKeyBlob.equals(parsePublicKeyLine(locked.publicLine).blob)).toBe(true);

    const message = Buffer.from('{"seq":1,"type":"skip"}');
    const armored = await signSshsig(message, signer, ns);
    expect(verifySshsig(message, armored, ns)).toMatchObject({ ok: true });

    const messagePath = join(dir, "rec.json");
    const allowedSigners = join(dir, "allowed_signers");
    await writeFile(messagePath, message);
    await writeFile(`${messagePath}.sig`, armored);
    await writeFile(allowedSigners, `${allowedSignersLine("ops@example.com", locked.publicLine)}\n`);
    const r = await sshKeygenVerify({
      allowedSigners,
      principal: "ops@example.com",
      namespace: ns,
      sigPath: `${messagePath}.sig`,
      messagePath,
    });
    expect(r.code, r.stderr).toBe(0);
  });

  test("the .pub path signs through the agent too, identically to the private path", async () => {
    const viaPub = await loadSigner(locked.publicPath, { SSH_AUTH_SOCK: agent.sock });
    const viaKey = await loadSigner(locked.privatePath, { SSH_AUTH_SOCK: agent.sock });
    const data = Buffer.from("same bytes");
    expect((await viaPub.sign(data)).equals(await viaKey.sign(data))).toBe(true);
  });

  test("listIdentities lists what ssh-add loaded, with comments", async () => {
    await agent.add(other.privatePath);
    const ids = await listIdentities(agent.sock);
    expect(ids.map((i) => i.comment).sort()).toEqual(["locked", "other"]);
    expect(ids.some((i) => i.blob.equals(parsePublicKeyLine(other.publicLine).blob))).toBe(true);
  });

  test("the agent refuses to sign with a key it does not hold → FailedError", async () => {
    const stranger = await makeKey(dir, "stranger");
    const blob = parsePublicKeyLine(stranger.publicLine).blob;
    await expect(agentSign(agent.sock, blob, Buffer.from("x"))).rejects.toThrow(FailedError);
    await expect(agentSign(agent.sock, blob, Buffer.from("x"))).rejects.toThrow(/refused to sign/);
  });
});

describe("against a fake agent (protocol edge cases)", () => {
  let sock: string;
  let server: Server;
  /** What the fake agent writes back: one buffer, or several written 10 ms apart. */
  let reply: (request: Buffer) => Buffer | Buffer[] | undefined;

  beforeAll(async () => {
    sock = join(dir, "fake.sock");
    server = createServer((conn) => {
      conn.on("data", async (request: Buffer) => {
        const out = reply(request);
        for (const chunk of Array.isArray(out) ? out : out ? [out] : []) {
          conn.write(chunk);
          await new Promise((r) => setTimeout(r, 10));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(sock, resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const frame = (type: number, body: Buffer = Buffer.alloc(0)) => {
    const head = Buffer.alloc(5);
    head.writeUInt32BE(body.length + 1);
    head[4] = type;
    return Buffer.concat([head, body]);
  };

  test("sends a well-framed REQUEST_IDENTITIES (11) and reads an empty answer (12) split across writes", async () => {
    let seen: Buffer | undefined;
    reply = (request) => {
      seen = request;
      const answer = frame(12, Buffer.alloc(4));
      return [answer.subarray(0, 2), answer.subarray(2, 6), answer.subarray(6)];
    };
    expect(await listIdentities(sock)).toEqual([]);
    expect(seen?.toString("hex")).toBe("000000010b");
  });

  test("SSH_AGENT_FAILURE (5) to a list request → FailedError", async () => {
    reply = () => frame(5);
    await expect(listIdentities(sock)).rejects.toThrow(/refused to list its keys \(message 5\)/);
  });

  test("an agent that never answers → FailedError after the timeout", async () => {
    reply = () => undefined;
    const started = Date.now();
    await expect(listIdentities(sock, { timeoutMs: 150 })).rejects.toThrow(/did not answer within 150 ms/);
    // Generous: it proves the timeout ended the wait (the agent never answers), not how fast.
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  test("an oversized length prefix → FailedError, not a huge allocation", async () => {
    reply = () => Buffer.from([0x7f, 0xff, 0xff, 0xff, 12]);
    await expect(listIdentities(sock)).rejects.toThrow(FailedError);
  });

  test("a sign response carrying a non-ed25519 signature → FailedError", async () => {
    const sig = Buffer.concat([lp(Buffer.from("rsa-sha2-512")), lp(Buffer.alloc(256))]);
    reply = () => frame(14, lp(sig));
    await expect(agentSign(sock, Buffer.alloc(51), Buffer.from("x"))).rejects.toThrow(
      /malformed answer.*rsa-sha2-512/,
    );
  });

  test("a socket nobody listens on → UsageError (exit 2)", async () => {
    await expect(listIdentities(join(dir, "nobody.sock"))).rejects.toThrow(UsageError);
  });
});

function lp(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}
