/**
 * ULIDs (https://github.com/ulid/spec): 48-bit millisecond time + 80 random bits, Crockford
 * base32, 26 characters, so record ids sort by creation time as plain strings.
 */
import { randomBytes } from "node:crypto";
import { UsageError } from "../errors.js";

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const maxTime = 2 ** 48 - 1;
// Ten time characters carry 50 bits, so the first one is at most "7". Only the canonical
// upper-case spelling is accepted: one id, one file name.
const pattern = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

export function ulid(now: number = Date.now()): string {
  if (!Number.isInteger(now) || now < 0 || now > maxTime) {
    throw new RangeError(`ulid: time ${now} is outside 0…2^48-1 ms`);
  }
  let time = "";
  for (let t = now, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = alphabet[t % 32] + time;
  // 80 random bits = 16 characters of 5 bits, read big-endian from 10 bytes.
  const bytes = randomBytes(10);
  let random = "";
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      random += alphabet[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return time + random;
}

export function isUlid(s: string): boolean {
  return pattern.test(s);
}

/** The id's creation time in ms since the epoch. */
export function ulidTime(id: string): number {
  if (!isUlid(id)) throw new UsageError(`not a record id (ULID): ${JSON.stringify(id.slice(0, 40))}`);
  let t = 0;
  for (let i = 0; i < 10; i++) t = t * 32 + alphabet.indexOf(id[i]!);
  return t;
}
