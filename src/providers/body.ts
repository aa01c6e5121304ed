/**
 * What a forge's error body says, as one short line. A proxy or load balancer in front of GitHub
 * Enterprise or GitLab answers with an HTML page (502, 503, a login wall): its markup must never
 * reach a terminal, a message, or a signed record, so a page is reduced to its <title>.
 */
const entities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", nbsp: " " };

function looksLikeHtml(text: string, contentType: string | null | undefined): boolean {
  return (
    /html/i.test(contentType ?? "") || /^\s*(<!doctype html|<html[\s>]|<head[\s>]|<body[\s>])/i.test(text)
  );
}

/** The page's <title>, entities decoded, whitespace folded; "an HTML page" when it has none. */
export function htmlTitle(html: string): string {
  const m = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html);
  const title = (m?.[1] ?? "")
    .replace(/<[^>]*>/g, "")
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, e: string) => entities[e] ?? "")
    .replace(/\s+/g, " ")
    .trim();
  return title ? `an HTML page titled "${title}"` : "an HTML page";
}

/** A body's text for a message: HTML reduced to its title, anything else as is (callers scrub and clip). */
export function bodyText(text: string, contentType?: string | null): string {
  return looksLikeHtml(text, contentType) ? htmlTitle(text) : text;
}
