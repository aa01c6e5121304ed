/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the exact bytes a ledger record is signed over.
 *
 * Deliberately stricter than JSON.stringify: what is signed must be what a reader parses back, so
 * anything JSON.stringify would silently drop, coerce or call (undefined in arrays, functions,
 * symbols, bigint, NaN/Infinity, Date and other class instances via toJSON, cycles) is a TypeError.
 * The one JSON.stringify leniency kept is omitting object properties whose value is `undefined`, so
 * optional fields can be left unset rather than deleted.
 */
export function canonicalize(value: unknown): string {
  return serialize(value, new Set(), "$");
}

// RFC 8785 §3.1 requires I-JSON (RFC 7493 §2.1): strings must be valid Unicode, so no lone surrogates.
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function serialize(value: unknown, seen: Set<object>, path: string): string {
  switch (typeof value) {
    case "string":
      if (loneSurrogate.test(value)) throw new TypeError(`canonicalize: lone surrogate in string at ${path}`);
      // RFC 8785 §3.2.2.2: the escaping of ECMAScript's JSON.stringify (ECMA-262 QuoteJSONString).
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonicalize: ${value} is not valid JSON at ${path}`);
      // RFC 8785 §3.2.2.3: ECMAScript Number::toString; String(-0) is already "0".
      return String(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      return serializeObject(value, seen, path);
    default:
      throw new TypeError(`canonicalize: a ${typeof value} is not JSON at ${path}`);
  }
}

function serializeObject(value: object, seen: Set<object>, path: string): string {
  if (seen.has(value)) throw new TypeError(`canonicalize: cycle at ${path}`);
  seen.add(value);
  let out: string;
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (let i = 0; i < value.length; i++) items.push(serialize(value[i], seen, `${path}[${i}]`));
    out = `[${items.join(",")}]`;
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? "object";
      throw new TypeError(`canonicalize: a ${name} is not a plain object at ${path}`);
    }
    // RFC 8785 §3.2.3: keys sorted by their UTF-16 code units, which is what the default sort compares.
    const record = value as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const v = record[key];
      if (v === undefined) continue;
      members.push(`${serialize(key, seen, path)}:${serialize(v, seen, `${path}.${key}`)}`);
    }
    out = `{${members.join(",")}}`;
  }
  seen.delete(value);
  return out;
}
