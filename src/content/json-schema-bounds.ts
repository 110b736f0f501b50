/**
 * Bounds on a JSON Schema a client sends (`response_format`, `guided_json`,
 * `structured_outputs.json`, tool `parameters`), checked before anything is generated, in
 * iterative walks: a schema nested 100,000 levels deep is refused, not a stack overflow.
 *
 * Generation itself is bounded by a budget tied to max_tokens (json-schema.ts); these bounds keep
 * the schema document small enough that resolving it stays cheap, and refuse counts no answer
 * could ever reach with a message saying which keyword. For comparison, OpenAI's structured
 * outputs allow 5,000 object properties and 10 levels of nesting ("Supported schemas", OpenAI
 * API docs); vLLM sets no bound of its own.
 */

/** Deepest JSON nesting of a schema document (objects and arrays, keyword maps included). */
export const MAX_SCHEMA_DEPTH = 64;
/** Most objects and arrays in one schema document. */
export const MAX_SCHEMA_CONTAINERS = 10_000;
/** Largest `minItems`, `minProperties` and `minLength`. */
export const MAX_SCHEMA_COUNT = 100_000;

const COUNT_KEYWORDS = ['minItems', 'minProperties', 'minLength'] as const;
/** Keywords whose value is one subschema. */
const SCHEMA_KEYWORDS = [
  'additionalProperties',
  'items',
  'not',
  'contains',
  'propertyNames',
  'if',
  'then',
  'else',
  'unevaluatedItems',
  'unevaluatedProperties',
  'additionalItems',
];
/** Keywords whose value is a list of subschemas. */
const LIST_KEYWORDS = ['anyOf', 'oneOf', 'allOf', 'prefixItems', 'items'];
/** Keywords whose value maps names to subschemas. */
const MAP_KEYWORDS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];

/** The first bound `schema` breaks, as a message naming where (a JSON pointer), or undefined. */
export function schemaBoundsProblem(schema: unknown): string | undefined {
  return shapeProblem(schema) ?? countProblem(schema);
}

/** Depth and size of the document, whatever its keywords mean. */
function shapeProblem(root: unknown): string | undefined {
  const stack: { value: unknown; depth: number; path: () => string }[] = [
    { value: root, depth: 0, path: () => '#' },
  ];
  let containers = 0;
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_SCHEMA_DEPTH)
      return `${path()}: the schema nests deeper than ${MAX_SCHEMA_DEPTH} levels`;
    if (++containers > MAX_SCHEMA_CONTAINERS) {
      return `the schema has more than ${MAX_SCHEMA_CONTAINERS} objects and arrays`;
    }
    const push = (key: string, child: unknown): void => {
      if (typeof child === 'object' && child !== null) {
        stack.push({ value: child, depth: depth + 1, path: () => `${path()}/${pointerToken(key)}` });
      }
    };
    if (Array.isArray(value)) value.forEach((child, i) => push(String(i), child));
    else for (const key of Object.keys(value)) push(key, (value as Record<string, unknown>)[key]);
  }
  return undefined;
}

/** Counts over MAX_SCHEMA_COUNT, looking only at subschemas (not into `const` or `enum` data). */
function countProblem(root: unknown): string | undefined {
  const stack: { schema: unknown; path: string }[] = [{ schema: root, path: '#' }];
  while (stack.length > 0) {
    const { schema, path } = stack.pop()!;
    if (!isRecord(schema)) continue;
    for (const keyword of COUNT_KEYWORDS) {
      const count = schema[keyword];
      if (typeof count === 'number' && count > MAX_SCHEMA_COUNT) {
        return `${path}: ${keyword} ${count} is above the limit of ${MAX_SCHEMA_COUNT}`;
      }
    }
    for (const keyword of SCHEMA_KEYWORDS) {
      if (isRecord(schema[keyword])) stack.push({ schema: schema[keyword], path: `${path}/${keyword}` });
    }
    for (const keyword of LIST_KEYWORDS) {
      const list = schema[keyword];
      if (Array.isArray(list))
        list.forEach((sub, i) => stack.push({ schema: sub, path: `${path}/${keyword}/${i}` }));
    }
    for (const keyword of MAP_KEYWORDS) {
      const map = schema[keyword];
      if (!isRecord(map)) continue;
      for (const [name, sub] of Object.entries(map)) {
        stack.push({ schema: sub, path: `${path}/${keyword}/${pointerToken(name)}` });
      }
    }
  }
  return undefined;
}

/** A JSON Pointer reference token (RFC 6901): `~` and `/` escaped. */
function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
