/** Types for scripts/gen-docs.mjs, so tests can render the generated docs in memory. */

/** Every generated file: path relative to the project root → its full expected content. */
export function render(): Promise<Map<string, string>>;

/** Replaces each `<!-- generated:NAME:begin -->` … `<!-- generated:NAME:end -->` region of `text`. */
export function fill(text: string, regions: Record<string, string>, file: string): string;
