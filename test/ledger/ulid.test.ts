import { describe, expect, test } from "vitest";
import { UsageError } from "../../src/errors.js";
import { isUlid, ulid, ulidTime } from "../../src/ledger/ulid.js";

describe("ulid", () => {
  test("26 Crockford base32 characters, time first", () => {
    const id = ulid(1_469_918_176_385);
    expect(id).toHaveLength(26);
    // The ULID spec's example time encodes as 01ARYZ6S41.
    expect(id.slice(0, 10)).toBe("01ARYZ6S41");
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(isUlid(id)).toBe(true);
  });

  test("time bounds: 0 and 2^48-1 ms; outside is a RangeError", () => {
    expect(ulid(0).slice(0, 10)).toBe("0000000000");
    expect(ulid(2 ** 48 - 1).slice(0, 10)).toBe("7ZZZZZZZZZ");
    expect(() => ulid(2 ** 48)).toThrow(RangeError);
    expect(() => ulid(-1)).toThrow(RangeError);
    expect(() => ulid(1.5)).toThrow(RangeError);
  });

  test("ulidTime inverts the time part", () => {
    for (const t of [0, 1, 1_700_000_000_123, 2 ** 48 - 1, Date.now()]) expect(ulidTime(ulid(t))).toBe(t);
  });

  test("ids sort by time as plain strings", () => {
    const times = [5, 1_000, 1_700_000_000_000, 1_700_000_000_001, 2 ** 47];
    const ids = times.map((t) => ulid(t));
    expect([...ids].reverse().sort()).toEqual(ids);
  });

  test("80 random bits: same-millisecond ids differ and every random character varies", () => {
    const ids = Array.from({ length: 2000 }, () => ulid(1_700_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    for (let pos = 10; pos < 26; pos++) {
      const seen = new Set(ids.map((id) => id[pos]));
      // 2000 draws of 32 symbols: every position sees (nearly) the full alphabet; a stuck bit would halve it.
      expect(seen.size).toBeGreaterThan(28);
    }
  });

  test("isUlid rejects wrong length, excluded letters, lower case and overflowing times", () => {
    const id = ulid();
    expect(isUlid(id.slice(1))).toBe(false);
    expect(isUlid(`${id}0`)).toBe(false);
    expect(isUlid(`${id.slice(0, 25)}I`)).toBe(false);
    expect(isUlid(`${id.slice(0, 25)}U`)).toBe(false);
    expect(isUlid("01ARYZ6S41TSV4RRFFQ69G5FAV")).toBe(true);
    expect(isUlid("01aryz6s41tsv4rrffq69g5fav")).toBe(false);
    expect(isUlid(`8${id.slice(1)}`)).toBe(false);
  });

  test("ulidTime of a non-ULID is a UsageError", () => {
    expect(() => ulidTime("not-an-id")).toThrow(UsageError);
  });
});
