/**
 * Terminal cells for the report: how wide text is on screen, bars drawn with eighth blocks, and
 * the ASCII fallback for terminals that cannot show them. Kept apart from the report's layout so
 * the width rules are in one place (every line must fit 80 columns).
 */
import { inertLine } from "../../ui/text.js";

export type Glyphs = "unicode" | "ascii";

/**
 * Unicode unless `OPTOUT_ASCII=1`, or the locale in force (LC_ALL, else LC_CTYPE, else LANG,
 * as setlocale(3) picks it) does not say UTF-8: a C/POSIX locale shows blocks as mojibake.
 */
export function glyphsFor(env: Record<string, string | undefined>): Glyphs {
  if (env.OPTOUT_ASCII === "1") return "ascii";
  const locale = [env.LC_ALL, env.LC_CTYPE, env.LANG].find((v) => v !== undefined && v !== "") ?? "";
  return /utf-?8/i.test(locale) ? "unicode" : "ascii";
}

// East Asian Wide/Fullwidth blocks and emoji take two columns on a terminal.
const wide = [
  [0x1100, 0x115f],
  [0x2e80, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
] as const;
const combining = /\p{M}/u;

function charWidth(ch: string): number {
  const cp = ch.codePointAt(0)!;
  // Combining marks, zero-width spaces/joiners and variation selectors take no column.
  if (combining.test(ch) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  return wide.some(([lo, hi]) => cp >= lo && cp <= hi) ? 2 : 1;
}

export function width(s: string): number {
  let w = 0;
  for (const ch of s) w += charWidth(ch);
  return w;
}

/** Cuts `s` to at most `max` columns, marking the cut. */
export function clip(s: string, max: number, glyphs: Glyphs): string {
  if (width(s) <= max) return s;
  const mark = glyphs === "unicode" ? "…" : "~";
  let out = "";
  let w = 0;
  for (const ch of s) {
    const cw = charWidth(ch);
    if (w + cw > max - 1) break;
    out += ch;
    w += cw;
  }
  return out + mark;
}

/** Text from records (reasons, logins, stage names), safe for this terminal: inert, one line. */
export function userText(s: string, glyphs: Glyphs): string {
  const line = inertLine(s);
  // Per code point (the u flag), so an emoji is one "?", not two.
  return glyphs === "unicode" ? line : line.replace(/[^\x20-\x7e]/gu, "?");
}

export function padTo(s: string, cols: number, align: "left" | "right" = "left"): string {
  const gap = " ".repeat(Math.max(0, cols - width(s)));
  return align === "left" ? s + gap : gap + s;
}

const eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/**
 * A bar of `value / max` of `cells` columns: eighth blocks in Unicode, `#` per whole cell in
 * ASCII. A non-zero value always shows something, so a rare entry is not mistaken for none.
 */
export function bar(value: number, max: number, cells: number, glyphs: Glyphs): string {
  if (value <= 0 || max <= 0) return "";
  const ratio = Math.min(1, value / max);
  if (glyphs === "ascii") return "#".repeat(Math.max(1, Math.round(ratio * cells)));
  const units = Math.max(1, Math.round(ratio * cells * 8));
  return "█".repeat(Math.floor(units / 8)) + eighths[units % 8];
}

export interface Column {
  title: string;
  align?: "left" | "right";
  /** Shrinks (with a cut mark) when the row would pass the line width; others never do. */
  flexible?: boolean;
  /** Applied after padding, so colour codes do not count as width. */
  paint?: (s: string) => string;
}

/** Rows under a header, aligned, each line at most `maxWidth` columns. */
export function layout(
  columns: readonly Column[],
  rows: readonly string[][],
  o: { maxWidth: number; indent: number; glyphs: Glyphs; header?: (s: string) => string },
): string[] {
  const gap = 2;
  const widths = columns.map((c, i) => Math.max(width(c.title), ...rows.map((r) => width(r[i] ?? ""))));
  const total = () => o.indent + widths.reduce((a, b) => a + b, 0) + gap * (widths.length - 1);
  const flex = columns.findIndex((c) => c.flexible);
  if (flex >= 0 && total() > o.maxWidth) widths[flex] = Math.max(4, widths[flex]! - (total() - o.maxWidth));
  const line = (cells: readonly string[], head: boolean) =>
    " ".repeat(o.indent) +
    cells
      .map((cell, i) => {
        const c = columns[i]!;
        const last = i === cells.length - 1;
        const text = clip(cell, widths[i]!, o.glyphs);
        // The last left-aligned cell is not padded: no trailing spaces.
        const padded = last && c.align !== "right" ? text : padTo(text, widths[i]!, c.align);
        return head ? padded : c.paint && text ? c.paint(padded) : padded;
      })
      .join(" ".repeat(gap))
      .trimEnd();
  const header = line(
    columns.map((c) => c.title),
    true,
  );
  return [o.header ? o.header(header) : header, ...rows.map((r) => line(r, false))];
}
