/**
 * Secrets never reach output: any value of a secret-bearing environment variable, and anything
 * shaped like a known token, is replaced before a message is printed.
 */
import { redactTokens } from "../core/secrets.js";

const secretName = /TOKEN|SECRET|PASSWORD|WEBHOOK|PRIVATE_KEY|API_KEY/i;

export function redact(text: string, env: Record<string, string | undefined>): string {
  let out = text;
  for (const [k, v] of Object.entries(env)) {
    if (v && v.length >= 8 && secretName.test(k)) out = out.split(v).join("***");
  }
  return redactTokens(out, "***");
}
