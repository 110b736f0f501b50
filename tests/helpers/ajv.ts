/** A JSON Schema (2020-12) validator with formats, for checking generated structured output. */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: under NodeNext its default import is the module object, whose
// `default` is the plugin (at run time either may be the function).
const mod = addFormatsModule as unknown as ((ajv: Ajv2020) => Ajv2020) & {
  default?: (ajv: Ajv2020) => Ajv2020;
};
const addFormats = mod.default ?? mod;

export function createValidator(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv;
}
