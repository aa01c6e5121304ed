import { UsageError } from "../errors.js";

const units: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const iso = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

/**
 * Parses `30m`, `4h`, `2d`, `1w`, `90s`, combinations like `1h30m`, and ISO 8601 durations
 * (`PT4H`, `P1D`). Returns milliseconds, or null when the text is not a duration.
 */
export function parseDurationMs(text: string): number | null {
  const s = text.trim();
  if (s === "") return null;
  if (/^P/i.test(s)) {
    const m = iso.exec(s);
    if (!m || s.toUpperCase() === "P" || s.toUpperCase().endsWith("T")) return null;
    const [, w, d, h, min, sec] = m;
    return (
      Number(w ?? 0) * units.w! +
      Number(d ?? 0) * units.d! +
      Number(h ?? 0) * units.h! +
      Number(min ?? 0) * units.m! +
      Math.round(Number(sec ?? 0) * 1000)
    );
  }
  const part = /(\d+)\s*([smhdw])/gy;
  let total = 0;
  let consumed = 0;
  for (let m = part.exec(s); m; m = part.exec(s)) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed = part.lastIndex;
  }
  if (consumed !== s.length || consumed === 0) return null;
  return total;
}

/** Like parseDurationMs, but a UsageError naming the flag when the text is not a duration longer than zero. */
export function requireDurationMs(text: string, where: string): number {
  const ms = parseDurationMs(text);
  if (ms === null) {
    throw new UsageError(`${where}: "${text}" is not a duration`, {
      hint: "use 30m, 4h, 2d, or an ISO 8601 duration such as PT4H",
    });
  }
  if (ms <= 0) {
    throw new UsageError(`${where}: "${text}" is no time at all`, {
      hint: "give a duration longer than zero, such as 30s, 30m or 4h",
    });
  }
  return ms;
}

/** `4h`, `1d 2h`, `45m`, `30s`: the largest two units, for humans. */
export function formatDuration(ms: number): string {
  const neg = ms < 0;
  let rest = Math.abs(ms);
  const parts: string[] = [];
  for (const [u, size] of [
    ["d", units.d!],
    ["h", units.h!],
    ["m", units.m!],
    ["s", units.s!],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${u}`);
    rest -= n * size;
    if (parts.length === 2) break;
  }
  const text = parts.length ? parts.join(" ") : "0s";
  return neg ? `-${text}` : text;
}

/**
 * A point in time for --since/--until/--now: an ISO 8601 timestamp or date, or a duration meaning
 * that long before `now`.
 */
export function parseTimeOrAgo(text: string, now: Date, where: string): Date {
  const ms = parseDurationMs(text);
  if (ms !== null) return new Date(now.getTime() - ms);
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const d = new Date(text);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new UsageError(`${where}: "${text}" is neither a duration nor an ISO 8601 time`, {
    hint: "use 7d, 24h, 2026-11-01 or 2026-11-01T08:00:00Z",
  });
}

/** An absolute ISO 8601 timestamp (for --now). */
export function parseTimestamp(text: string, where: string): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const d = new Date(text);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new UsageError(`${where}: "${text}" is not an ISO 8601 time`, { hint: "e.g. 2026-11-26T08:00:00Z" });
}
