/** Modules imported by path from outside dist/main.js's graph. */
export const LIBRARY_ENTRIES: string[];
/** What differs between the committed action/ and a fresh build of it ([] when up to date). */
export function staleAction(): Promise<string[]>;
