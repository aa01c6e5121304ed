/**
 * The JSON Schema shipped as schema/optoutrc.schema.json, generated from the zod schema so the
 * two cannot drift (test/policy/json-schema.test.ts fails when the file is stale). Editors use it
 * for completion and structural checks; rules across keys are only checked by `optout policy check`.
 */
import { z } from "zod";
import { policyFileSchema } from "./schema.js";

export const POLICY_SCHEMA_ID = "https://unpkg.com/optout/schema/optoutrc.schema.json";

export function policyJsonSchema(): Record<string, unknown> {
  // io "input": keys with defaults are optional in the file, which is what an editor should say.
  const { $schema, ...rest } = z.toJSONSchema(policyFileSchema, { target: "draft-2020-12", io: "input" });
  return { $schema, $id: POLICY_SCHEMA_ID, ...rest };
}
