/**
 * The generic webhook: the event as JSON, signed like GitHub's webhooks so receivers can reuse
 * their verification code (`X-Optout-Signature-256: sha256=<hex HMAC of the raw body>`).
 * The record goes out exactly as in the ledger, not made inert: receivers may compare it with the
 * signed record, and JSON encoding already escapes control characters.
 * https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
 */
import { createHmac } from "node:crypto";
import type { NotifyEvent } from "../core/ports.js";
import { version } from "../version.js";

export const signatureHeader = "X-Optout-Signature-256";

export interface WebhookBody {
  event: NotifyEvent["event"];
  record: NotifyEvent["record"];
  repo: string;
  links: NotifyEvent["links"];
}

export function webhookBody(e: NotifyEvent): WebhookBody {
  return { event: e.event, record: e.record, repo: e.repo, links: e.links };
}

/** The signature over the exact bytes sent; receivers must verify before parsing. */
export function sign(body: Uint8Array, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export function optoutVersion(): string {
  try {
    return version();
  } catch {
    return "unknown";
  }
}

export function userAgent(): string {
  return `optout/${optoutVersion()}`;
}

/** Headers of one delivery; `deliveryId` stays the same across its retries so receivers dedupe. */
export function webhookHeaders(
  e: NotifyEvent,
  deliveryId: string,
  signature: string | undefined,
): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "User-Agent": userAgent(),
    "X-Optout-Event": e.event,
    "X-Optout-Delivery": deliveryId,
    ...(signature ? { [signatureHeader]: signature } : {}),
  };
}
