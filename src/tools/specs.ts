/**
 * Builders for the `tools` entries of a Responses request (see ToolSpec in ./contract.ts).
 * Deterministic: the same tool gives the same bytes, so the provider's prompt cache holds.
 */
import { z } from 'zod';
import type { ToolGrammar, ToolSpec } from './contract';

/** A function tool whose parameters are the JSON Schema of `schema`. */
export function functionSpec(name: string, description: string, schema: z.ZodType): ToolSpec {
  return { type: 'function', name, description, parameters: jsonSchemaOf(schema), strict: false };
}

/** A freeform (custom) tool whose input follows `format`. */
export function customSpec(name: string, description: string, format: ToolGrammar): ToolSpec {
  return { type: 'custom', name, description, format };
}

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}
