import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { POLICY_SCHEMA_ID, policyJsonSchema } from "../../src/policy/json-schema.js";
import { loadPolicy } from "../../src/policy/load.js";

const root = path.resolve(import.meta.dirname, "../..");
const schemaFile = path.join(root, "schema/optoutrc.schema.json");
const exampleFile = path.join(root, ".optoutrc.example.json");

type Json = Record<string, unknown>;

/**
 * A structural check of a value against the generated schema: types, required keys, unknown
 * keys, enums and consts, through records, arrays and the notify union. Enough to prove that the
 * example and the schema agree; regexes and durations are the loader's job.
 */
function mismatches(value: unknown, schema: Json, at = "$"): string[] {
  if (Array.isArray(schema.oneOf)) {
    const fits = (schema.oneOf as Json[]).filter((s) => mismatches(value, s, at).length === 0);
    return fits.length === 1 ? [] : [`${at}: matches ${fits.length} of the oneOf options`];
  }
  if ("const" in schema && value !== schema.const) return [`${at}: is not ${String(schema.const)}`];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) return [`${at}: not in enum`];
  const type = schema.type;
  const actual = Array.isArray(value) ? "array" : Number.isInteger(value) ? "integer" : typeof value;
  if (type !== undefined && type !== actual && !(type === "number" && actual === "integer")) {
    return [`${at}: expected ${String(type)}, got ${actual}`];
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => mismatches(item, (schema.items as Json) ?? {}, `${at}[${i}]`));
  }
  if (type !== "object" || value === null || typeof value !== "object") return [];
  const props = (schema.properties as Record<string, Json> | undefined) ?? {};
  const out = ((schema.required as string[] | undefined) ?? [])
    .filter((key) => !(key in value))
    .map((key) => `${at}.${key}: required`);
  for (const [key, item] of Object.entries(value)) {
    const sub = props[key] ?? schema.additionalProperties;
    if (sub === false || sub === undefined) out.push(`${at}.${key}: not in the schema`);
    else out.push(...mismatches(item, sub as Json, `${at}.${key}`));
  }
  return out;
}

describe("JSON Schema", () => {
  it("schema/optoutrc.schema.json is up to date", () => {
    const expected = `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
    const actual = readFileSync(schemaFile, "utf8");
    expect(
      actual === expected,
      "schema/optoutrc.schema.json is stale: run `npm run build && node scripts/gen-schema.mjs`",
    ).toBe(true);
  });

  it("names itself and a draft, and rejects unknown top-level keys", () => {
    const schema = policyJsonSchema();
    expect(schema.$id).toBe(POLICY_SCHEMA_ID);
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(["version"]);
    expect((schema.properties as Json).stages).toMatchObject({ description: expect.any(String) });
  });

  it("catches what it should: a typo and a wrong type", () => {
    const schema = policyJsonSchema();
    expect(mismatches({ version: 1, stgaes: {} }, schema)).toEqual(["$.stgaes: not in the schema"]);
    expect(mismatches({ version: 1, stages: { lint: { mechanism: "guard", allow: "x" } } }, schema)).toEqual([
      "$.stages.lint.allow: expected array, got string",
    ]);
  });
});

describe(".optoutrc.example.json", () => {
  const example = JSON.parse(readFileSync(exampleFile, "utf8")) as Json;

  it("loads without a problem", async () => {
    const policy = await loadPolicy({ configPath: ".optoutrc.example.json", cwd: root });
    expect(policy.provider).toBe("github");
    expect(policy.file).toBe(exampleFile);
  });

  it("refers to the schema and uses every top-level key the schema knows", () => {
    const properties = Object.keys(policyJsonSchema().properties as Json);
    expect(example.$schema).toBe(POLICY_SCHEMA_ID);
    for (const key of Object.keys(example)) expect(properties).toContain(key);
    // The example documents every feature: it should leave no top-level key out.
    expect(Object.keys(example).sort()).toEqual([...properties].sort());
  });

  it("is valid against the schema, all the way down", () => {
    expect(mismatches(example, policyJsonSchema())).toEqual([]);
  });

  it("shows every feature of docs/policy.md", () => {
    const stages = Object.values(example.stages as Record<string, Json>);
    expect(new Set(stages.map((s) => s.mechanism))).toEqual(new Set(["status", "variable", "guard"]));
    const flags = Object.values(example.flags as Record<string, Json>);
    expect(flags.some((f) => f.values) && flags.some((f) => f.pattern)).toBe(true);
    expect(flags.some((f) => (f.approvals as Json | undefined)?.environments)).toBe(true);
    expect(example.rollout).toMatchObject({
      workflow: expect.any(String),
      ref: expect.any(String),
      command: expect.any(Array),
    });
    expect(example.failover).toMatchObject({
      variable: expect.any(String),
      workflow: expect.any(String),
      command: expect.any(Array),
      environments: expect.any(Array),
    });
    expect((example.notify as Json[]).map((n) => n.type).sort()).toEqual(["issue", "slack", "webhook"]);
    expect((example.defaults as Json).ticket).toMatchObject({ pattern: expect.any(String) });
  });
});
