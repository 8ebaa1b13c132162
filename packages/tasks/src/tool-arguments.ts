import { type JsonSchemaObject, NonRetryableError } from "@switchyard/core";
import { Ajv, type ValidateFunction } from "ajv";

/**
 * Validates tool arguments against the tool's JSON Schema before anything is queued. Compiled
 * validators are cached per schema text; a schema Ajv cannot compile is not enforced (the tool
 * itself still validates). The catalog hands out the same schema object until it changes, so a
 * lookup by object identity comes first: serializing a large schema (a provider's
 * chat_completion) on every call was a measurable part of the api's CPU per call.
 */
export class ToolArgumentValidator {
  private readonly ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
  private readonly cache = new Map<string, ValidateFunction | null>();
  private readonly bySchema = new WeakMap<JsonSchemaObject, ValidateFunction | null>();

  validate(toolName: string, schema: JsonSchemaObject, args: Record<string, unknown>): void {
    const validate = this.compile(schema);
    if (!validate || validate(args)) return;
    const [first] = validate.errors ?? [];
    const field = first ? fieldOf(first.instancePath, first.params) : "";
    const where = field ? `arguments.${field}` : "arguments";
    throw new NonRetryableError("VALIDATION_FAILED", `${where}: ${first?.message ?? "invalid"} (tool ${toolName})`, {
      details: {
        field: where,
        errors: (validate.errors ?? []).map((e) => ({ path: e.instancePath, message: e.message })),
      },
    });
  }

  private compile(schema: JsonSchemaObject): ValidateFunction | null {
    const known = this.bySchema.get(schema);
    if (known !== undefined) return known;
    const validate = this.compileText(schema);
    this.bySchema.set(schema, validate);
    return validate;
  }

  private compileText(schema: JsonSchemaObject): ValidateFunction | null {
    const key = JSON.stringify(schema);
    let validate = this.cache.get(key);
    if (validate === undefined) {
      try {
        const { $schema: _, ...rest } = schema;
        validate = this.ajv.compile(rest);
      } catch {
        validate = null;
      }
      if (this.cache.size > 5_000) this.cache.clear();
      this.cache.set(key, validate);
    }
    return validate;
  }
}

function fieldOf(instancePath: string, params: Record<string, unknown>): string {
  const path = instancePath.replace(/^\//, "").replaceAll("/", ".");
  const extra =
    typeof params.missingProperty === "string"
      ? params.missingProperty
      : typeof params.additionalProperty === "string"
        ? params.additionalProperty
        : "";
  return [path, extra].filter(Boolean).join(".");
}
