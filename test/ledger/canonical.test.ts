import { describe, expect, test } from "vitest";
import { canonicalize } from "../../src/ledger/canonical.js";

describe("canonicalize (RFC 8785)", () => {
  test("§3.2.3 sorting example: keys by UTF-16 code units", () => {
    const input = JSON.parse(`{
      "\\u20ac": "Euro Sign",
      "\\r": "Carriage Return",
      "\\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\\ud83d\\ude00": "Emoji: Grinning Face",
      "\\u0080": "Control",
      "\\u00f6": "Latin Small Letter O With Diaeresis"
    }`);
    const out = canonicalize(input);
    expect(out).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  test("§3.2.4 example: literals, numbers, string escapes, and its UTF-8 bytes", () => {
    const input = JSON.parse(`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
      "literals": [null, true, false]
    }`);
    const out = canonicalize(input);
    expect(out).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
    // From the RFC's hex dump of the same output: its start, the UTF-8 "€", and its end.
    const hex = Buffer.from(out, "utf8").toString("hex");
    expect(hex.startsWith("7b226c69746572616c73223a5b6e756c")).toBe(true);
    expect(hex).toContain("22737472696e67223a22e282ac245c7530303066");
    expect(hex.endsWith("5c225c5c5c5c5c222f227d")).toBe(true);
  });

  // RFC 8785 Appendix B: IEEE 754 bit patterns and their required serialization.
  test.each([
    ["0000000000000000", "0"],
    ["8000000000000000", "0"],
    ["0000000000000001", "5e-324"],
    ["8000000000000001", "-5e-324"],
    ["7fefffffffffffff", "1.7976931348623157e+308"],
    ["ffefffffffffffff", "-1.7976931348623157e+308"],
    ["4340000000000000", "9007199254740992"],
    ["c340000000000000", "-9007199254740992"],
    ["4430000000000000", "295147905179352830000"],
    ["44b52d02c7e14af5", "9.999999999999997e+22"],
    ["44b52d02c7e14af6", "1e+23"],
    ["44b52d02c7e14af7", "1.0000000000000001e+23"],
    ["444b1ae4d6e2ef4e", "999999999999999700000"],
    ["444b1ae4d6e2ef4f", "999999999999999900000"],
    ["444b1ae4d6e2ef50", "1e+21"],
    ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
    ["3eb0c6f7a0b5ed8d", "0.000001"],
    ["41b3de4355555553", "333333333.3333332"],
    ["41b3de4355555554", "333333333.33333325"],
    ["41b3de4355555555", "333333333.3333333"],
    ["41b3de4355555556", "333333333.3333334"],
    ["41b3de4355555557", "333333333.33333343"],
    ["becbf647612f3696", "-0.0000033333333333333333"],
    ["43143ff3c1cb0959", "1424953923781206.2"],
  ])("Appendix B: %s → %s", (hex, expected) => {
    expect(canonicalize(Buffer.from(hex, "hex").readDoubleBE(0))).toBe(expected);
  });

  test("numbers from the brief", () => {
    expect(canonicalize([1e30, 4.5, 0.002, 1e-7, -0, 100, -1.5])).toBe("[1e+30,4.5,0.002,1e-7,0,100,-1.5]");
  });

  test("no whitespace, nested objects sorted, strings escaped as JSON.stringify", () => {
    const value = { b: [1, { z: true, a: null }], a: "tab\there \u2028 \u001f é 😀", "": {} };
    expect(canonicalize(value)).toBe(
      '{"":{},"a":"tab\\there \u2028 \\u001f é 😀","b":[1,{"a":null,"z":true}]}',
    );
  });

  test("sorts by code units, not code points: U+FB33 after U+1F600 (a surrogate pair)", () => {
    expect(canonicalize({ "\ufb33": 1, "\u{1f600}": 2 })).toBe('{"\u{1f600}":2,"\ufb33":1}');
  });

  test("omits undefined object members like JSON.stringify, keeps shared (non-cyclic) references", () => {
    const shared = { x: 1 };
    expect(canonicalize({ a: undefined, b: shared, c: shared })).toBe('{"b":{"x":1},"c":{"x":1}}');
    expect(canonicalize(Object.assign(Object.create(null), { k: 1 }))).toBe('{"k":1}');
  });

  test.each([
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["-Infinity", [-Infinity]],
    ["undefined in an array", [1, undefined]],
    ["top-level undefined", undefined],
    ["a function", { f: () => 1 }],
    ["a bigint", { n: 1n }],
    ["a symbol", [Symbol("s")]],
    ["a Date", { at: new Date(0) }],
    ["a Map", new Map()],
    ["a Buffer", { b: Buffer.from("x") }],
    ["a lone high surrogate", "\ud800x"],
    ["a lone low surrogate in a key", { "\udc00": 1 }],
  ])("rejects %s with a TypeError", (_name, value) => {
    expect(() => canonicalize(value)).toThrow(TypeError);
  });

  test("rejects cycles", () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => canonicalize(a)).toThrow(/cycle at \$\.self/);
  });

  test("round-trips: parse(canonicalize(x)) equals x, and canonicalize is idempotent", () => {
    const record = {
      v: 1,
      reason: 'prod down — ünïcode ✓ "quoted"\n',
      seq: 42,
      prev: null,
      links: { a: ["x"] },
    };
    const once = canonicalize(record);
    expect(JSON.parse(once)).toEqual(record);
    expect(canonicalize(JSON.parse(once))).toBe(once);
  });
});
