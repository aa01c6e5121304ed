import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConfigError } from "../../src/errors.js";
import {
  isAllowed,
  matchPatternList,
  parseAllowedSigners,
  principalsForKey,
} from "../../src/ledger/allowed-signers.js";
import { loadSigner, parsePublicKeyLine } from "../../src/ledger/keys.js";
import { signSshsig } from "../../src/ledger/sshsig.js";
import { makeKey, sshKeygenVerify, type TestKey } from "../helpers/keys.js";

const ns = "optout-audit";
let dir: string;
let alice: TestKey;
let other: TestKey;
let aliceKey: string; // "ssh-ed25519 AAAA…"
let otherKey: string;
let blob: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "optout-allowed-"));
  [alice, other] = await Promise.all([makeKey(dir, "alice"), makeKey(dir, "other")]);
  aliceKey = alice.publicLine.split(" ").slice(0, 2).join(" ");
  otherKey = other.publicLine.split(" ").slice(0, 2).join(" ");
  blob = parsePublicKeyLine(alice.publicLine).blob;
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("parseAllowedSigners", () => {
  test("skips comments and blank lines, keeps 1-based line numbers, tolerates CRLF and a trailing comment", () => {
    const text = `# team keys\r\n\r\n  alice@example.com ${aliceKey} alice's laptop\r\n\t# old\r\nbob@example.com ${otherKey}`;
    const signers = parseAllowedSigners(text, "allowed_signers");
    expect(signers.map((s) => [s.principals, s.line])).toEqual([
      [["alice@example.com"], 3],
      [["bob@example.com"], 5],
    ]);
    expect(signers[0]!.keyType).toBe("ssh-ed25519");
    expect(signers[0]!.blob.equals(blob)).toBe(true);
    expect(signers[0]!.certAuthority).toBe(false);
    expect(signers[0]!.namespaces).toBeUndefined();
  });

  test("quoted principal lists, wildcards and negations are kept as written", () => {
    const [s] = parseAllowedSigners(
      `"alice@example.com,*@ops.example.com,!eve@ops.example.com" ${aliceKey}`,
      "f",
    );
    expect(s!.principals).toEqual(["alice@example.com", "*@ops.example.com", "!eve@ops.example.com"]);
  });

  test("options: namespaces, valid-after (Z = UTC), valid-before (no Z = local time), cert-authority, any case", () => {
    const [s] = parseAllowedSigners(
      `alice@example.com namespaces="optout-audit,git",VALID-AFTER="20240102Z",valid-before="202501021530" ${aliceKey}`,
      "f",
    );
    expect(s!.namespaces).toEqual(["optout-audit", "git"]);
    expect(s!.validAfter).toEqual(new Date(Date.UTC(2024, 0, 2)));
    expect(s!.validBefore).toEqual(new Date(2025, 0, 2, 15, 30));
    const [ca] = parseAllowedSigners(
      `*@example.com cert-authority,valid-after="20240102030405UTC" ${aliceKey}`,
      "f",
    );
    expect(ca!.certAuthority).toBe(true);
    expect(ca!.validAfter).toEqual(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)));
  });

  test("a namespaces value with an escaped quote and a space inside the quotes", () => {
    const [s] = parseAllowedSigners(`a@x namespaces="odd \\"ns\\",b" ${aliceKey}`, "f");
    expect(s!.namespaces).toEqual(['odd "ns"', "b"]);
  });

  test.each([
    ["missing key", "alice@example.com", /missing key/],
    ["principals only, quoted", '"alice@example.com,bob@example.com"', /missing key/],
    [
      "unterminated principal quote",
      `"alice@example.com ${"ssh-ed25519 AAAA"}`,
      /unterminated quote in principals/,
    ],
    ["empty quoted principals", `"" KEY`, /empty principals/],
    ["unknown option", `alice@example.com no-touch-required KEY`, /unsupported option "no-touch-required"/],
    [
      "unquoted option value",
      `alice@example.com namespaces=git KEY`,
      /namespaces value must be in double quotes/,
    ],
    ["unterminated option quote", `alice@example.com namespaces="git KEY`, /unterminated quote in options/],
    ["repeated option", `a@x namespaces="a",namespaces="b" KEY`, /multiple "namespaces" options/],
    ["bad month", `a@x valid-after="20241301" KEY`, /valid-after: 20241301 is not a valid time/],
    ["31 February", `a@x valid-before="20240231Z" KEY`, /not a valid time/],
    ["short date", `a@x valid-after="2024" KEY`, /is not YYYYMMDD/],
    [
      "before ≤ after",
      `a@x valid-after="20240102Z",valid-before="20240101Z" KEY`,
      /"valid-before" is not after/,
    ],
    ["unknown key type", `a@x ssh-foo AAAAB3Nz`, /unknown key type "ssh-foo"/],
    ["type/blob mismatch", "a@x ssh-rsa BLOB", /ssh-rsa line holds a ssh-ed25519 key/],
    ["bad base64", "a@x ssh-ed25519 !!!!", /not an SSH public key/],
    ["text after an option", `a@x namespaces="a"x KEY`, /unexpected text after the namespaces option/],
  ])("%s → ConfigError naming source and line", (_name, line, reason) => {
    const b64 = aliceKey.split(" ")[1]!;
    const text = `# header\n${line.replace("KEY", aliceKey).replace("BLOB", b64)}\n`;
    const err = (() => {
      try {
        parseAllowedSigners(text, ".optout/allowed_signers");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    expect((err as ConfigError).message).toMatch(/^\.optout\/allowed_signers:2: /);
    expect((err as ConfigError).message).toMatch(reason);
  });
});

describe("matchPatternList (OpenSSH match.c)", () => {
  test.each([
    ["alice@x.com", ["alice@x.com"], 1],
    ["alice@x.com", ["*@x.com"], 1],
    ["alice@x.com", ["?lice@x.com"], 1],
    ["alice@x.com", ["a*e@x.co?"], 1],
    ["alice@x.com", ["*"], 1],
    ["", ["*"], 1],
    ["alice@x.com", ["*@y.com"], 0],
    ["alice@x.com", ["ALICE@x.com"], 0],
    ["alice@x.com", ["alice"], 0],
    ["alice@x.com", ["*@x.com", "!alice@x.com"], -1],
    ["alice@x.com", ["!alice@x.com", "*"], -1],
    ["bob@x.com", ["*@x.com", "!alice@x.com"], 1],
    ["bob@x.com", ["!alice@x.com"], 0],
    ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", ["*a*a*a*a*a*a*a*a*c"], 0],
  ] as const)("%s vs %j → %i", (s, patterns, expected) => {
    expect(matchPatternList(s, [...patterns])).toBe(expected);
  });
});

describe("isAllowed agrees with ssh-keygen -Y verify", () => {
  let sigs: Record<string, string>;
  beforeAll(async () => {
    const signer = await loadSigner(alice.privatePath, {});
    await writeFile(join(dir, "msg"), "record bytes");
    sigs = {};
    for (const n of [ns, "file"]) {
      sigs[n] = join(dir, `msg.${n}.sig`);
      await writeFile(sigs[n], await signSshsig(Buffer.from("record bytes"), signer, n));
    }
  });

  const now = "now";
  // [allowed_signers line (KEY = alice's key, OTHER = another key), principal, namespace, time, expected]
  test.each([
    ["alice@example.com KEY", "alice@example.com", ns, now, true],
    ["alice@example.com KEY", "bob@example.com", ns, now, false],
    ["alice@example.com OTHER", "alice@example.com", ns, now, false],
    ['"bob@example.com,alice@example.com" KEY', "alice@example.com", ns, now, true],
    ["*@example.com KEY", "carol@example.com", ns, now, true],
    ["*@example.com KEY", "carol@example.org", ns, now, false],
    ['"*@example.com,!mallory@example.com" KEY', "mallory@example.com", ns, now, false],
    ["a?ice@example.com KEY", "alice@example.com", ns, now, true],
    ["ALICE@example.com KEY", "alice@example.com", ns, now, false],
    ['alice@example.com namespaces="optout-audit" KEY', "alice@example.com", ns, now, true],
    ['alice@example.com namespaces="optout-audit" KEY', "alice@example.com", "file", now, false],
    ['alice@example.com namespaces="git,optout-*" KEY', "alice@example.com", ns, now, true],
    ['alice@example.com namespaces="*,!optout-audit" KEY', "alice@example.com", ns, now, false],
    ["alice@example.com cert-authority KEY", "alice@example.com", ns, now, false],
    // A key retired in 2020 still validates what it signed before then, and nothing after.
    ['alice@example.com valid-before="20200101Z" KEY', "alice@example.com", ns, "20190601Z", true],
    ['alice@example.com valid-before="20200101Z" KEY', "alice@example.com", ns, now, false],
    ['alice@example.com valid-after="20300101" KEY', "alice@example.com", ns, now, false],
    ['alice@example.com valid-after="20300101" KEY', "alice@example.com", ns, "20300101", true],
    // Both bounds inclusive, to the second.
    [
      'a@x valid-after="20200101000000Z",valid-before="20200102000000Z" KEY',
      "a@x",
      ns,
      "20200101000000Z",
      true,
    ],
    [
      'a@x valid-after="20200101000000Z",valid-before="20200102000000Z" KEY',
      "a@x",
      ns,
      "20200102000000Z",
      true,
    ],
    [
      'a@x valid-after="20200101000000Z",valid-before="20200102000000Z" KEY',
      "a@x",
      ns,
      "20200102000001Z",
      false,
    ],
    [
      'a@x valid-after="20200101000000Z",valid-before="20200102000000Z" KEY',
      "a@x",
      ns,
      "20191231235959Z",
      false,
    ],
    // A later line can allow what an earlier (expired) one does not.
    ['a@x valid-before="20200101Z" KEY\na@x KEY', "a@x", ns, now, true],
  ] as const)("%s | -I %s -n %s @ %s → %s", async (line, principal, namespace, time, expected) => {
    const text = `${line.replace(/KEY/g, aliceKey).replace("OTHER", otherKey)}\n`;
    const file = join(dir, `allowed_${Math.random().toString(36).slice(2)}`);
    await writeFile(file, text);
    const at = time === now ? new Date() : toDate(time);
    expect(isAllowed(parseAllowedSigners(text, file), principal, blob, namespace, at)).toBe(expected);
    const r = await sshKeygenVerify({
      allowedSigners: file,
      principal,
      namespace,
      sigPath: sigs[namespace]!,
      messagePath: join(dir, "msg"),
      ...(time === now ? {} : { verifyTime: time }),
    });
    expect(r.code === 0, `ssh-keygen: ${r.stderr}`).toBe(expected);
  });
});

test("an invalid signing time (a record's unparseable `time`) allows nothing, bounds or not", () => {
  const bad = new Date("not a time");
  for (const line of [`a@x ${aliceKey}`, `a@x valid-before="20200101Z" ${aliceKey}`]) {
    const signers = parseAllowedSigners(line, "f");
    expect(isAllowed(signers, "a@x", blob, ns, bad)).toBe(false);
    expect(principalsForKey(signers, blob, ns, bad)).toEqual([]);
  }
});

describe("principalsForKey", () => {
  test("literal principals of the key's usable lines, in order, no wildcards or negations, no duplicates", () => {
    const signers = parseAllowedSigners(
      [
        `"alice@example.com,*@ops.example.com,!eve@example.com" ${aliceKey}`,
        `"*@example.com,!bob@example.com,bob@example.com,carol@example.com" ${aliceKey}`,
        `alice@example.com,dave@example.com ${aliceKey}`,
        `erin@example.com ${otherKey}`,
        `frank@example.com namespaces="git" ${aliceKey}`,
        `grace@example.com valid-before="20200101Z" ${aliceKey}`,
        `heidi@example.com cert-authority ${aliceKey}`,
      ].join("\n"),
      "f",
    );
    const at = new Date();
    expect(principalsForKey(signers, blob, ns, at)).toEqual([
      "alice@example.com",
      "carol@example.com",
      "dave@example.com",
    ]);
    expect(principalsForKey(signers, blob, "git", at)).toContain("frank@example.com");
    expect(principalsForKey(signers, blob, ns, new Date(Date.UTC(2019, 0, 1)))).toContain(
      "grace@example.com",
    );
    expect(principalsForKey(signers, parsePublicKeyLine(other.publicLine).blob, ns, at)).toEqual([
      "erin@example.com",
    ]);
    expect(principalsForKey(signers, Buffer.from("nope"), ns, at)).toEqual([]);
  });
});

/** YYYYMMDD[HHMM[SS]][Z] → Date, as ssh-keygen reads verify-time. */
function toDate(s: string): Date {
  const m = /^(\d{4})(\d\d)(\d\d)(\d\d)?(\d\d)?(\d\d)?(Z)?$/.exec(s)!;
  const parts = [
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4] ?? 0),
    Number(m[5] ?? 0),
    Number(m[6] ?? 0),
  ] as const;
  return m[7] ? new Date(Date.UTC(...parts)) : new Date(...parts);
}
