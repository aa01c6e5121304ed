import type { Target } from "../core/record.js";

/** A short human name for what a record or override acts on: "skip lint@main", "flag X@production". */
export function describeEntry(
  e: { op?: string | null; type?: string; target: Target },
  o: { compact?: boolean } = {},
): string {
  const t = e.target;
  // A review ("review  of skip 01J…"), or a refused one ("deny  review of 01J…"): about an override.
  if (t.override)
    return e.type === "review" ? `of ${e.op ?? "override"} ${t.override}` : `review of ${t.override}`;
  switch (e.op ?? e.type) {
    case "skip":
      return `skip ${t.stage}@${t.sha ? t.sha.slice(0, 12) : t.ref}`;
    case "flag":
      return `flag ${t.flag}${t.env ? `@${t.env}` : ""}`;
    case "rollout":
      return `rollout ${t.env} ${shortArtifact(t.artifact ?? "", o)}`.trim();
    case "failover":
      return `failover ${t.env ? `${t.env} ` : ""}→ ${t.target}`;
    default:
      return `${e.op ?? e.type}`;
  }
}

/** `registry/app@sha256:0123456789ab…`: a digest's first 12 hex digits say which one it is. */
export function shortArtifact(artifact: string, o: { compact?: boolean } = {}): string {
  const short = artifact.replace(/@(sha\d+):([0-9a-f]{12})[0-9a-f]+$/, "@$1:$2…");
  // Compact (status's table): the image's last path segment; the digest says which one it is.
  return o.compact ? short.replace(/^[^@]*\/(?=[^/@]+@)/, "…/") : short;
}
