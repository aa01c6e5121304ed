/** The `Optout-*` trailers of a ledger commit's message (a module of its own: guard reads them without the ledger's writer). */
export function parseTrailers(message: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of message.split("\n")) {
    const m = /^(Optout-[A-Za-z]+):\s*(.+)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}
