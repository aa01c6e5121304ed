/**
 * GitHub's published contract (`@octokit/openapi`, generated/api.github.com.json), loaded once
 * per test file: operations matched by method + path template, request bodies and query
 * parameters checked with ajv, and a generator for response bodies that satisfy the schemas
 * (every required field present) so the fake's answers look like GitHub's.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ValidateFunction } from "ajv";
import formats from "ajv-formats";

// ajv-formats is CommonJS: under NodeNext its default import is module.exports; the plugin is `.default`.
const addFormats = formats.default;

type Json = Record<string, unknown>;
interface Schema {
  $ref?: string;
  type?: string;
  nullable?: boolean;
  enum?: unknown[];
  format?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
}
export interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Schema;
}
export interface Operation {
  method: string;
  template: string;
  operationId: string;
  params: string[];
  regex: RegExp;
  query: Map<string, Parameter>;
  body?: { required: boolean; validate: () => ValidateFunction };
  responses: Record<string, () => ValidateFunction | undefined>;
}

const require = createRequire(import.meta.url);
let loaded: Contract | undefined;

export function contract(): Contract {
  loaded ??= new Contract();
  return loaded;
}

export class Contract {
  private readonly spec: { paths: Record<string, Record<string, Json>>; components: Json };
  private readonly ajv: Ajv;
  /** Query values arrive as strings: this one coerces "30" to 30 before checking a schema. */
  private readonly queryAjv: Ajv;
  private readonly queryValidators = new Map<Parameter, ValidateFunction>();
  private readonly ops: Operation[] = [];

  constructor() {
    const file = require.resolve("@octokit/openapi/generated/api.github.com.json");
    this.spec = JSON.parse(readFileSync(file, "utf8"));
    // OpenAPI 3.0: `nullable` is understood by ajv; x-github and example keywords are not schema rules.
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    this.ajv.addSchema(typedNullables({ components: this.spec.components }) as Json, "gh");
    this.queryAjv = new Ajv({ strict: false, allErrors: true, validateSchema: false, coerceTypes: true });
    addFormats(this.queryAjv);
    this.queryAjv.addSchema({ components: this.spec.components }, "gh");
    for (const [template, item] of Object.entries(this.spec.paths)) {
      const shared = (item.parameters as Json[] | undefined) ?? [];
      for (const [method, op] of Object.entries(item)) {
        if (method === "parameters") continue;
        this.ops.push(this.operation(method.toUpperCase(), template, op as Json, shared));
      }
    }
    // Literal segments win over parameters: /actions/variables/{name} before /{owner}/{repo}/…
    this.ops.sort((a, b) => a.params.length - b.params.length);
  }

  private operation(method: string, template: string, op: Json, shared: Json[]): Operation {
    const params: string[] = [];
    const source = template
      .split("/")
      .map((seg) =>
        seg.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_, n: string) => {
          params.push(n);
          return "([^/]+)";
        }),
      )
      .join("/");
    const query = new Map<string, Parameter>();
    for (const raw of [...shared, ...((op.parameters as Json[] | undefined) ?? [])]) {
      const p = this.deref(raw) as unknown as Parameter;
      if (p.in === "query") query.set(p.name, p);
    }
    const rb = op.requestBody ? (this.deref(op.requestBody as Json) as Json) : undefined;
    const bodySchema = (rb?.content as Record<string, Json> | undefined)?.["application/json"]?.schema;
    const responses: Operation["responses"] = {};
    for (const [code, r] of Object.entries((op.responses as Record<string, Json>) ?? {})) {
      const schema = ((this.deref(r) as Json).content as Record<string, Json> | undefined)?.[
        "application/json"
      ]?.schema;
      let v: ValidateFunction | undefined;
      responses[code] = () => {
        if (schema && !v) v = this.compile(schema);
        return v;
      };
    }
    let bodyValidator: ValidateFunction | undefined;
    return {
      method,
      template,
      operationId: String(op.operationId),
      params,
      regex: new RegExp(`^${source}$`),
      query,
      ...(bodySchema
        ? {
            body: {
              required: rb?.required === true,
              validate: () => {
                bodyValidator ??= this.compile(bodySchema);
                return bodyValidator;
              },
            },
          }
        : {}),
      responses,
    };
  }

  /** The operation for a request, with its path parameters (decoded). */
  match(method: string, path: string): { op: Operation; params: Record<string, string> } | undefined {
    for (const op of this.ops) {
      if (op.method !== method) continue;
      const m = op.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      op.params.forEach((n, i) => {
        params[n] = decodeURIComponent(m[i + 1]!);
      });
      return { op, params };
    }
    return undefined;
  }

  /**
   * Why a query value breaks its parameter's schema (type, enum, format such as `date-time`),
   * or undefined when it is valid.
   */
  checkQuery(p: Parameter, value: string): string | undefined {
    if (!p.schema) return undefined;
    let v = this.queryValidators.get(p);
    if (!v) {
      const text = JSON.stringify({ type: "object", properties: { value: p.schema } }).replaceAll(
        '"$ref":"#/components/',
        '"$ref":"gh#/components/',
      );
      v = this.queryAjv.compile(JSON.parse(text));
      this.queryValidators.set(p, v);
    }
    if (v({ value })) return undefined;
    return (v.errors ?? []).map((e) => e.message).join("; ") || "invalid";
  }

  /** A body for `schema` (a "#/components/schemas/x" ref or inline) with every required field, then `over`. */
  example(ref: string, over: Json = {}): Json {
    return { ...(this.fill({ $ref: ref }, 0) as Json), ...over };
  }

  private compile(schema: unknown): ValidateFunction {
    const text = JSON.stringify(schema).replaceAll('"$ref":"#/components/', '"$ref":"gh#/components/');
    return this.ajv.compile(typedNullables(JSON.parse(text)) as Json);
  }

  private deref(x: Json): Json {
    let cur = x;
    while (typeof cur.$ref === "string") {
      cur = (cur.$ref as string)
        .slice(2)
        .split("/")
        .reduce<Json>(
          (o, k) => o[k.replaceAll("~1", "/").replaceAll("~0", "~")] as Json,
          this.spec as unknown as Json,
        );
    }
    return cur;
  }

  private fill(s: Schema, depth: number): unknown {
    const schema = this.deref(s as Json) as Schema;
    if (schema.allOf) return Object.assign({}, ...schema.allOf.map((x) => this.fill(x, depth)));
    const alt = schema.oneOf ?? schema.anyOf;
    if (alt) return this.fill(alt[0]!, depth);
    if (schema.nullable && depth > 2) return null;
    if (schema.enum) return schema.enum[0];
    switch (schema.type) {
      case "object": {
        const out: Json = {};
        for (const k of schema.required ?? []) out[k] = this.fill(schema.properties?.[k] ?? {}, depth + 1);
        return out;
      }
      case "array":
        return [];
      case "integer":
      case "number":
        return 1;
      case "boolean":
        return false;
      case "string":
        return formatted(schema.format);
      default:
        return null;
    }
  }
}

/**
 * OpenAPI 3.0's `nullable` means "or null"; ajv accepts it only next to a `type`. Where the
 * description puts it on a `$ref` or an `allOf` (an installation's `suspended_by`), say the same
 * thing as `anyOf: [that, null]`.
 */
function typedNullables(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(typedNullables);
  if (typeof x !== "object" || x === null) return x;
  const o = Object.fromEntries(Object.entries(x).map(([k, v]) => [k, typedNullables(v)])) as Json;
  if (o.nullable === true && o.type === undefined) {
    const { nullable: _n, ...rest } = o;
    return { anyOf: [rest, { type: "null" }] };
  }
  return o;
}

function formatted(format: string | undefined): string {
  switch (format) {
    case "date-time":
      return "2024-01-01T00:00:00Z";
    case "uri":
    case "uri-template":
      return "https://api.github.com/fake";
    case "email":
      return "octocat@example.com";
    default:
      return "x";
  }
}
