/**
 * Free text that ends up in signed records and on terminals: what counts as a visible character,
 * and which characters no value may carry.
 */

/** C0/C1 controls, DEL, and bidi/format controls that change how a terminal shows the rest. */
const controls = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/** Whether `text` holds a character no stored value may hold (newlines, escapes, bidi overrides). */
export function hasControl(text: string): boolean {
  return controls.test(text);
}

/** `text` with each control character written as a \u{…} escape, for quoting a refused value. */
export function escapeControls(text: string): string {
  return text.replace(new RegExp(controls.source, "gu"), (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** Characters a reader sees: format characters (zero-width spaces, joiners, BOM) and controls do not count. */
export function visibleLength(text: string): number {
  let n = 0;
  for (const ch of text.trim()) if (!/[\p{Cf}\p{Cc}\p{Zl}\p{Zp}]/u.test(ch)) n++;
  return n;
}
