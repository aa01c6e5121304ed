/**
 * Strings from users and forges reach terminals: strip control characters and escape
 * sequences so a reason cannot rewrite the screen, hide text, or set a terminal title.
 */
// ESC sequences (CSI, OSC, single-char), C0 controls except tab/newline, DEL and C1 controls.
const escapes =
  /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const bidi = /[\u202a-\u202e\u2066-\u2069]/g;

export function inert(text: string): string {
  return text.replace(escapes, "").replace(bidi, "");
}

/** One line: newlines shown as ⏎ so a record cannot fake extra output lines. */
export function inertLine(text: string): string {
  return inert(text).replace(/\r?\n/g, " ⏎ ");
}

/**
 * Cuts a line whose last column is plain text to `columns` visible characters, ending in "…"
 * (colour codes earlier in the line do not count). --json has the full text.
 */
export function fitLine(line: string, columns: number): string {
  const excess = [...inert(line)].length - columns;
  if (excess <= 0) return line;
  const chars = [...line];
  return `${chars.slice(0, chars.length - excess - 1).join("")}…`;
}

export function pad(s: string, width: number): string {
  const len = [...s].length;
  return len >= width ? s : s + " ".repeat(width - len);
}

export function table(rows: string[][], gap = 2): string {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...c].length);
    });
  }
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i]! + gap)))
        .join("")
        .trimEnd(),
    )
    .join("\n");
}
