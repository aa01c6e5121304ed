/**
 * A minimal ssh-agent client (draft-miller-ssh-agent, the protocol of OpenSSH's PROTOCOL.agent):
 * list identities and sign with ed25519 keys, one connection per request, over node:net.
 */
import { createConnection } from "node:net";
import { FailedError, UsageError } from "../errors.js";
import { SshReader, sshString, sshU32 } from "./sshsig.js";

// draft-miller-ssh-agent §6.1 message numbers.
const SSH_AGENT_FAILURE = 5;
const SSH_AGENTC_REQUEST_IDENTITIES = 11;
const SSH_AGENT_IDENTITIES_ANSWER = 12;
const SSH_AGENTC_SIGN_REQUEST = 13;
const SSH_AGENT_SIGN_RESPONSE = 14;
// OpenSSH's agent refuses messages above 256 KiB (AGENT_MAX_LEN); an answer larger is not an agent.
const maxMessage = 256 * 1024;
const defaultTimeoutMs = 10_000;

export interface AgentIdentity {
  /** The public key in SSH wire format. */
  blob: Buffer;
  comment: string;
}

export interface AgentOptions {
  timeoutMs?: number;
}

export async function listIdentities(sock: string, opts: AgentOptions = {}): Promise<AgentIdentity[]> {
  const answer = await request(sock, SSH_AGENTC_REQUEST_IDENTITIES, Buffer.alloc(0), opts);
  if (answer.type !== SSH_AGENT_IDENTITIES_ANSWER) {
    throw new FailedError(`ssh-agent at ${sock} refused to list its keys (message ${answer.type})`);
  }
  return malformedAs(sock, () => {
    // §4.4: uint32 nkeys, then nkeys × (string key blob, string comment).
    const r = new SshReader(answer.body);
    const identities: AgentIdentity[] = [];
    for (let n = r.u32(); n > 0; n--) identities.push({ blob: r.string(), comment: r.text() });
    r.end("the identities");
    return identities;
  });
}

/** Asks the agent to sign `data` with the ed25519 key `blob`; returns the raw 64-byte signature. */
export async function agentSign(
  sock: string,
  blob: Buffer,
  data: Buffer,
  opts: AgentOptions = {},
): Promise<Buffer> {
  // §4.5: string key blob, string data, uint32 flags (no flags apply to ed25519).
  const body = Buffer.concat([sshString(blob), sshString(data), sshU32(0)]);
  const answer = await request(sock, SSH_AGENTC_SIGN_REQUEST, body, opts);
  if (answer.type === SSH_AGENT_FAILURE) {
    throw new FailedError(
      `ssh-agent at ${sock} refused to sign (key removed, locked, or confirmation declined)`,
    );
  }
  if (answer.type !== SSH_AGENT_SIGN_RESPONSE) {
    throw new FailedError(`ssh-agent at ${sock} answered a signing request with message ${answer.type}`);
  }
  return malformedAs(sock, () => {
    // §4.5: string signature, itself string "ssh-ed25519" + string 64 raw bytes (RFC 8709 §6).
    const outer = new SshReader(answer.body);
    const sig = new SshReader(outer.string());
    outer.end("the sign response");
    const type = sig.text();
    const raw = sig.string();
    sig.end("the signature");
    if (type !== "ssh-ed25519" || raw.length !== 64) throw new RangeError(`unexpected ${type} signature`);
    return raw;
  });
}

function malformedAs<T>(sock: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new FailedError(`malformed answer from ssh-agent at ${sock}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

interface Message {
  type: number;
  body: Buffer;
}

/** §3: every message is uint32 length, byte type, contents. One request, one answer, hang up. */
function request(sock: string, type: number, body: Buffer, opts: AgentOptions): Promise<Message> {
  const timeoutMs = opts.timeoutMs ?? defaultTimeoutMs;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let connected = false;
    let settled = false;
    const socket = createConnection(sock);
    const settle = (err: Error | undefined, msg?: Message) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(msg!);
    };
    const timer = setTimeout(
      () => settle(new FailedError(`ssh-agent at ${sock} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on("connect", () => {
      connected = true;
      socket.write(Buffer.concat([sshU32(body.length + 1), Buffer.from([type]), body]));
    });
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < 4) return;
      const all = Buffer.concat(chunks);
      const len = all.readUInt32BE(0);
      if (len < 1 || len > maxMessage) {
        settle(new FailedError(`ssh-agent at ${sock} sent a ${len}-byte message`));
      } else if (all.length >= 4 + len) {
        settle(undefined, { type: all[4]!, body: all.subarray(5, 4 + len) });
      }
    });
    socket.on("error", (e: NodeJS.ErrnoException) => {
      const why = e.code ?? e.message;
      settle(
        connected
          ? new FailedError(`lost the connection to ssh-agent at ${sock}: ${why}`, { cause: e })
          : new UsageError(`cannot reach ssh-agent at ${sock}: ${why}`, {
              cause: e,
              hint: 'start one with `eval "$(ssh-agent)"` and add your key with `ssh-add`',
            }),
      );
    });
    socket.on("close", () =>
      settle(new FailedError(`ssh-agent at ${sock} closed the connection without answering`)),
    );
  });
}
