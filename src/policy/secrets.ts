/**
 * Secrets pasted into the policy file. The file is committed and read by everyone with access to
 * the repository, so a token in it is a leaked token: refuse it, and never repeat it in a message.
 */
import { redactTokens, tokenKind } from "../core/secrets.js";
import type { JsonPath } from "./problems.js";

/**
 * Keys that only ever hold a secret (compared lower-case, without `_` and `-`). Allowed keys like
 * `webhookUrlEnv`, `secretEnv` and `signingKey` (a path) are not in it.
 */
const secretKeys = new Set([
  "webhookurl",
  "secret",
  "token",
  "password",
  "passwd",
  "apikey",
  "apitoken",
  "accesstoken",
  "authtoken",
  "privatekey",
  "clientsecret",
  "credentials",
]);

export const SECRET_MESSAGE =
  "secrets do not belong in the policy file; put it in an environment variable and name it in webhookUrlEnv/secretEnv";
export const SECRET_HINT =
  "if this file was ever committed or shared, treat the secret as leaked and revoke it";

/** What kind of secret the text contains, if any. */
export const secretKind = tokenKind;

/** The text with every secret-looking part replaced: the last guard before anything is printed. */
export function redactSecrets(text: string): string {
  return redactTokens(text, "[redacted]");
}

export function isSecretKey(key: string): boolean {
  return secretKeys.has(key.toLowerCase().replace(/[-_]/g, ""));
}

export interface SecretFinding {
  path: JsonPath;
  message: string;
}

/**
 * Walks the raw file. `isNameMap(path)` tells when an object's keys are names chosen by the user
 * (a stage called "token" is fine); elsewhere a secret-only key name is a finding.
 */
export function findSecrets(raw: unknown, isNameMap: (path: JsonPath) => boolean): SecretFinding[] {
  const found: SecretFinding[] = [];
  const visit = (value: unknown, path: JsonPath): void => {
    if (typeof value === "string") {
      const kind = secretKind(value);
      if (kind) found.push({ path, message: `looks like ${kind}; ${SECRET_MESSAGE}` });
    } else if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) visit(item, [...path, i]);
    } else if (value !== null && typeof value === "object") {
      const names = isNameMap(path);
      for (const [key, item] of Object.entries(value)) {
        const kind = secretKind(key);
        if (kind) {
          // The key itself is the secret: point at the object holding it, never at the key.
          found.push({ path, message: `has a key that looks like ${kind}; ${SECRET_MESSAGE}` });
        } else if (!names && isSecretKey(key)) {
          found.push({ path: [...path, key], message: SECRET_MESSAGE });
        } else {
          visit(item, [...path, key]);
        }
      }
    }
  };
  visit(raw, []);
  return found;
}
