/** The event a notification announces, with the commands it points the reader to. */
import type { NotifyEvent, NotifyEventName } from "./ports.js";
import type { LedgerRecord, RecordDraft } from "./record.js";

export function notifyEvent(
  event: NotifyEventName,
  record: LedgerRecord | RecordDraft,
  repo: string,
): NotifyEvent {
  const links = {
    ...(event === "pending" ? { approve: `optout approve ${record.id}` } : {}),
    ...(event === "applied" ? { revert: `optout revert ${record.id}` } : {}),
  };
  return { event, record, repo, links };
}
