/**
 * Arrays for the JSON Schema generator: tuple items (`prefixItems`, or draft-4 `items` lists)
 * first, then `items` up to a length drawn between minItems and a few more (near the top only);
 * with uniqueItems, a repeated item is drawn again up to 20 times (each discarded draw is spent
 * from the budget).
 */
import { randomInt, SHALLOW_DEPTH, type GenerationContext } from './json-schema-context.js';
import { asArray, isRecord, JsonSchemaError, type Schema } from './json-schema-shape.js';

/** Array length spread above minItems when maxItems allows. */
const ITEMS_EXTRA = 3;

/** The writer of array values. */
export function createArrayWriter(
  ctx: GenerationContext,
): (schema: Record<string, unknown>, depth: number, where: string) => void {
  const { rng, out, value } = ctx;
  return (schema, depth, where) => {
    const prefix = asArray(schema['prefixItems']) as Schema[];
    const items = schema['items'];
    const itemSchema: Schema | undefined = Array.isArray(items)
      ? undefined
      : isRecord(items) || typeof items === 'boolean'
        ? items
        : undefined;
    const tuple = Array.isArray(items) ? (items as Schema[]) : prefix;
    const minItems = typeof schema['minItems'] === 'number' ? schema['minItems'] : 0;
    const maxItems = typeof schema['maxItems'] === 'number' ? schema['maxItems'] : Infinity;
    if (maxItems < minItems) throw new JsonSchemaError(`${where}: maxItems below minItems`);
    const restAllowed = itemSchema !== false && (tuple.length === 0 || items !== false);
    const lo = Math.max(minItems, 0);
    const hi = Math.min(
      maxItems,
      restAllowed ? lo + (depth < SHALLOW_DEPTH ? ITEMS_EXTRA : 0) : tuple.length,
    );
    let count = hi <= lo ? lo : randomInt(rng, lo, hi);
    count = Math.max(count, Math.min(tuple.length, maxItems === Infinity ? tuple.length : maxItems));
    if (tuple.length > 0 && count < Math.min(tuple.length, minItems)) count = minItems;
    const unique = schema['uniqueItems'] === true;
    const seen = new Set<string>();
    out.write('[');
    let written = 0;
    for (let i = 0; i < count; i++) {
      const sub: Schema = i < tuple.length ? tuple[i]! : (itemSchema ?? true);
      const before = out.mark();
      if (written > 0) out.write(', ');
      if (!unique) {
        value(sub, depth + 1, `${where}/items/${i}`);
        written++;
        continue;
      }
      const start = out.mark();
      value(sub, depth + 1, `${where}/items/${i}`);
      let text = out.since(start);
      for (let attempt = 0; seen.has(text) && attempt < 20; attempt++) {
        out.rollback(start);
        value(sub, depth + 1, `${where}/items/${i}`);
        text = out.since(start);
      }
      if (seen.has(text)) {
        out.rollback(before);
        if (written >= minItems) break;
        throw new JsonSchemaError(`${where}: cannot find ${minItems} unique items`);
      }
      seen.add(text);
      written++;
    }
    out.write(']');
  };
}
