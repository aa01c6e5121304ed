/**
 * Secrets never reach output: any value of a secret-bearing environment variable, and anything
 * shaped like a known token, is replaced before a message is printed.
 */
const secretName = /TOKEN|SECRET|PASSWORD|WEBHOOK|PRIVATE_KEY|API_KEY/i;
const tokenShapes =
  /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}|\bglpat-[A-Za-z0-9_-]{20,}|\bxox[abposr]-[A-Za-z0-9-]{10,}|https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/]+/g;

export function redact(text: string, env: Record<string, string | undefined>): string {
  let out = text;
  for (const [k, v] of Object.entries(env)) {
    if (v && v.length >= 8 && secretName.test(k)) out = out.split(v).join("***");
  }
  return out.replace(tokenShapes, "***");
}
