#!/usr/bin/env node
/**
 * Writes schema/optoutrc.schema.json from the built zod schema (run `npm run build` first).
 * test/policy/json-schema.test.ts fails when the committed file differs from what this writes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { policyJsonSchema } from "../dist/policy/json-schema.js";

const out = join(dirname(fileURLToPath(import.meta.url)), "..", "schema", "optoutrc.schema.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
console.log(`wrote ${out}`);
