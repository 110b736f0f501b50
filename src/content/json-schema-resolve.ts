/**
 * Schema resolution for the generator: local `$ref` (JSON Pointer into the root document),
 * `allOf` folded into one schema, and the merged options of `anyOf` / `oneOf`. Every result is
 * computed once per schema object (WeakMaps), so a document of shared `$ref`s costs its size, not
 * its expansion; a chain that comes back to itself is refused, not recursed into.
 */
import { asArray, asRecord, defineOwn, isRecord, JsonSchemaError, type Schema } from './json-schema-shape.js';

/** How deep `$ref` and `allOf` may resolve inside one another. */
const MAX_RESOLVE_DEPTH = 64;

export interface SchemaResolver {
  /** `schema` with its `$ref` followed (siblings override the target) and its `allOf` folded in. */
  resolve(schema: Schema, where: string, depth: number): Schema;
  /** `{...rest, ...branch}` of option `index` of the schema's `anyOf` / `oneOf` (`key`). */
  branchOf(schema: Record<string, unknown>, key: string, index: number): Schema;
  /** Indexes of the options that are not a bare $ref, for deep levels. */
  flatIndexes(schema: Record<string, unknown>, key: string): number[];
}

export function createSchemaResolver(root: Schema): SchemaResolver {
  const resolved = new WeakMap<object, Schema>();
  const resolving = new Set<object>();
  const branches = new WeakMap<object, Map<string, Schema>>();
  const flatOptions = new WeakMap<object, number[]>();

  /** The node a local `$ref` points to (JSON Pointer, RFC 6901, percent-decoded). */
  const lookup = (ref: string, where: string): Schema => {
    if (!ref.startsWith('#')) throw new JsonSchemaError(`${where}: only local $ref is supported, got ${ref}`);
    let node: unknown = root;
    for (const raw of ref
      .slice(1)
      .split('/')
      .filter((p) => p !== '')) {
      let part: string;
      try {
        part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      } catch {
        throw new JsonSchemaError(`${where}: $ref ${ref} is not a valid JSON pointer`);
      }
      node =
        typeof node === 'object' && node !== null && Object.hasOwn(node, part)
          ? (node as Record<string, unknown>)[part]
          : undefined;
    }
    if (typeof node !== 'boolean' && !isRecord(node))
      throw new JsonSchemaError(`${where}: $ref ${ref} not found`);
    return node;
  };

  const resolve = (schema: Schema, where: string, depth: number): Schema => {
    if (typeof schema === 'boolean') return schema;
    const known = resolved.get(schema);
    if (known !== undefined) return known;
    if (resolving.has(schema)) throw new JsonSchemaError(`${where}: $ref or allOf refers back to itself`);
    if (depth > MAX_RESOLVE_DEPTH) {
      throw new JsonSchemaError(`${where}: $ref and allOf chain deeper than ${MAX_RESOLVE_DEPTH}`);
    }
    resolving.add(schema);
    try {
      let result: Schema = schema;
      if (typeof schema['$ref'] === 'string') {
        const { $ref, ...siblings } = schema;
        const target = resolve(lookup($ref, where), where, depth + 1);
        if (target === false) throw new JsonSchemaError(`${where}: $ref to false schema`);
        result = target === true ? siblings : { ...target, ...siblings };
      }
      if (isRecord(result) && Array.isArray(result['allOf'])) result = foldAllOf(result, where, depth);
      resolved.set(schema, result);
      return result;
    } finally {
      resolving.delete(schema);
    }
  };

  /**
   * allOf folded into one schema: the schema's own keywords win, then earlier parts over later
   * ones; properties are united the same way and `required` lists joined. One pass over the parts.
   */
  const foldAllOf = (
    schema: Record<string, unknown>,
    where: string,
    depth: number,
  ): Record<string, unknown> => {
    const { allOf, ...own } = schema;
    const parts: Record<string, unknown>[] = [];
    (allOf as unknown[]).forEach((raw, i) => {
      if (typeof raw !== 'boolean' && !isRecord(raw)) return;
      const part = resolve(raw, `${where}/allOf/${i}`, depth + 1);
      if (isRecord(part)) parts.push(part);
    });
    // Lowest precedence first, so later writes win: the last part … the first, then the schema.
    const layers = [...parts.reverse(), own];
    const result: Record<string, unknown> = {};
    const properties = new Map<string, unknown>();
    const required: unknown[] = [];
    for (const layer of layers) {
      for (const key of Object.keys(layer)) defineOwn(result, key, layer[key]);
      for (const [name, sub] of Object.entries(asRecord(layer['properties']))) properties.set(name, sub);
      for (const name of asArray(layer['required'])) required.push(name);
    }
    const united: Record<string, unknown> = {};
    for (const [name, sub] of properties) defineOwn(united, name, sub);
    defineOwn(result, 'properties', united);
    defineOwn(result, 'required', required);
    return result;
  };

  const branchOf = (schema: Record<string, unknown>, key: string, index: number): Schema => {
    let cache = branches.get(schema);
    if (cache === undefined) branches.set(schema, (cache = new Map()));
    const id = `${key}/${index}`;
    let merged = cache.get(id);
    if (merged === undefined) {
      const branch = (schema[key] as Schema[])[index]!;
      if (isRecord(branch)) {
        const { [key]: _options, ...rest } = schema;
        merged = { ...rest, ...branch };
      } else {
        merged = branch;
      }
      cache.set(id, merged);
    }
    return merged;
  };

  const flatIndexes = (schema: Record<string, unknown>, key: string): number[] => {
    let cached = flatOptions.get(schema);
    if (cached === undefined) {
      const indexes: number[] = [];
      (schema[key] as unknown[]).forEach((c, i) => {
        if (!(isRecord(c) && '$ref' in c)) indexes.push(i);
      });
      flatOptions.set(schema, (cached = indexes));
    }
    return cached;
  };

  return { resolve, branchOf, flatIndexes };
}
