/**
 * Finds the schema that applies at a JSON path of the raw file, so messages can name the keys
 * allowed there ("did you mean allow?") and the secret scan can tell name maps from objects.
 */
import { z } from "zod";
import type { JsonPath, PathSegment } from "./problems.js";
import { policyFileSchema } from "./schema.js";

type Schema = z.core.$ZodType;

function unwrap(schema: Schema): Schema {
  let s = schema;
  while (
    s instanceof z.ZodOptional ||
    s instanceof z.ZodDefault ||
    s instanceof z.ZodPrefault ||
    s instanceof z.ZodNullable
  ) {
    s = s.unwrap();
  }
  return s;
}

/** A discriminated union resolves to the option the raw value's discriminator selects. */
function resolve(schema: Schema, value: unknown): Schema | undefined {
  const s = unwrap(schema);
  if (!(s instanceof z.ZodDiscriminatedUnion)) return s;
  const key = s.def.discriminator;
  const tag =
    value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
  for (const option of s.options) {
    const literal = option instanceof z.ZodObject ? option.shape[key] : undefined;
    if (literal instanceof z.ZodLiteral && literal.values.has(tag as never)) return option;
  }
  return undefined;
}

function child(schema: Schema, seg: PathSegment, value: unknown): Schema | undefined {
  const s = resolve(schema, value);
  if (s instanceof z.ZodObject) return typeof seg === "string" ? s.shape[seg] : undefined;
  if (s instanceof z.ZodRecord) return s.valueType;
  if (s instanceof z.ZodArray) return s.element;
  return undefined;
}

/** The raw value at a path, or undefined. */
export function valueAt(raw: unknown, path: JsonPath): unknown {
  let v = raw;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PathSegment, unknown>)[seg];
  }
  return v;
}

function schemaAt(raw: unknown, path: JsonPath): Schema | undefined {
  let s: Schema | undefined = policyFileSchema;
  for (let i = 0; i < path.length && s; i++) {
    s = child(s, path[i]!, valueAt(raw, path.slice(0, i)));
  }
  return s;
}

/** The keys an object at `path` may have, or undefined when its keys are free names (or unknown). */
export function allowedKeysAt(raw: unknown, path: JsonPath): string[] | undefined {
  const s = schemaAt(raw, path);
  const resolved = s && resolve(s, valueAt(raw, path));
  return resolved instanceof z.ZodObject ? Object.keys(resolved.shape) : undefined;
}

/** Whether the object at `path` maps user-chosen names (stage names, group names, logins). */
export function isNameMap(raw: unknown, path: JsonPath): boolean {
  const s = schemaAt(raw, path);
  return s !== undefined && unwrap(s) instanceof z.ZodRecord;
}
