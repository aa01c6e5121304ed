/** Events as the override flow hands them to the notifier. */
import type { NotifyEvent, NotifyEventName } from "../../src/core/ports.js";
import type { LedgerRecord } from "../../src/core/record.js";

export const recordId = "01JB8Z3K4M5N6P7Q8R9S0T1V2W";

export function skipRecord(over: Partial<LedgerRecord> = {}): LedgerRecord {
  return {
    v: 1,
    id: recordId,
    seq: 7,
    prev: "sha256:00",
    time: "2025-03-01T03:04:05.000Z",
    type: "skip",
    op: null,
    actor: { provider: "github", login: "dana", id: "1001" },
    signer: "dana@acme.com",
    repo: "acme/shop",
    target: { stage: "lint", ref: "main", sha: "3f2a9c1d4e5f60718293a4b5c6d7e8f901234567" },
    reason: "linter crashes on node 22, INC-4411",
    ticket: "INC-4411",
    mechanism: "status",
    before: null,
    after: { state: "success" },
    expiresAt: "2025-03-01T07:04:05.000Z",
    links: {},
    outcome: "applied",
    tool: "optout/0.1.0",
    ...over,
  };
}

export function event(name: NotifyEventName = "applied", over: Partial<LedgerRecord> = {}): NotifyEvent {
  return {
    event: name,
    record: skipRecord(over),
    repo: "acme/shop",
    links: {
      revert: `optout revert ${recordId}`,
      record: `https://github.com/acme/shop/blob/optout/audit/records/${recordId}.json`,
    },
  };
}
