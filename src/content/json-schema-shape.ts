/**
 * What every part of the JSON Schema generator shares: the schema type, its error, and the small
 * readers of schema keywords (json-schema.ts describes the generator as a whole).
 */

/** A schema: an object of keywords, or `true` (anything) / `false` (nothing). */
export type Schema = Record<string, unknown> | boolean;

/** The schema cannot be satisfied or uses something unsupported; the message says where. */
export class JsonSchemaError extends Error {
  override readonly name = 'JsonSchemaError';
  constructor(
    message: string,
    /** The request field the schema came from, when the content layer knows it (tool parameters). */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The type a schema without `type` gets from its keywords. */
export function inferredType(schema: Record<string, unknown>): string {
  if ('properties' in schema || 'required' in schema || 'additionalProperties' in schema) return 'object';
  if ('items' in schema || 'prefixItems' in schema || 'minItems' in schema) return 'array';
  if ('minimum' in schema || 'maximum' in schema || 'multipleOf' in schema) return 'number';
  return 'string';
}

/** Sets an own property even for `__proto__` (plain assignment would set the prototype). */
export function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
