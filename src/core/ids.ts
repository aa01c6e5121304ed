/** Record ids as people type them: whole, or an unambiguous prefix of six characters or more. */
import { UsageError } from "../errors.js";

/**
 * The one id in `ids` that `given` names. `what` says what is listed ("override", "request") for
 * the messages; `notFound`, when given, words the miss itself (e.g. "that id is a revert record").
 */
export function matchId(
  ids: Iterable<string>,
  given: string,
  what: string,
  hint: string,
  notFound?: (wanted: string) => string | undefined,
): string {
  const want = given.trim().toUpperCase();
  const all = [...ids];
  if (all.includes(want)) return want;
  const found = want.length >= 6 ? all.filter((id) => id.startsWith(want)) : [];
  if (found.length > 1) {
    throw new UsageError(`"${given}" matches ${found.length} ${what}s: ${found.slice(0, 5).join(", ")}`, {
      hint: "give more of the id",
    });
  }
  if (found.length === 0) throw new UsageError(notFound?.(want) ?? `no ${what} with id ${given}`, { hint });
  return found[0]!;
}
