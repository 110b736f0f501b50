/**
 * Request-level bounds on guided decoding and tool schemas, as zod pieces so a breach is a 400
 * naming the exact field (`tools.0.function.parameters`, `guided_choice.2`, …). The bounds
 * themselves live with the code they protect: content/json-schema-bounds.ts and
 * content/guided.ts.
 */
import { z } from 'zod';
import { MAX_GUIDED_CHOICE_CHARS } from '../content/guided.js';
import { schemaBoundsProblem } from '../content/json-schema-bounds.js';

const choiceTooLong = (length: number) =>
  `a guided choice may have at most ${MAX_GUIDED_CHOICE_CHARS} characters, got ${length}`;

/** `guided_choice`: strings of at most MAX_GUIDED_CHOICE_CHARS characters. */
export const GuidedChoiceSchema = z.array(
  z
    .string()
    .max(MAX_GUIDED_CHOICE_CHARS, { error: (issue) => choiceTooLong((issue.input as string).length) }),
);

/** A JSON Schema object within the bounds of json-schema-bounds.ts (tool `parameters`). */
export const BoundedJsonSchema = z.record(z.string(), z.unknown()).superRefine((schema, ctx) => {
  const problem = schemaBoundsProblem(schema);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/** vLLM's `structured_outputs` object: its `choice` entries bounded as `guided_choice` is. */
export const StructuredOutputsSchema = z.record(z.string(), z.unknown()).superRefine((so, ctx) => {
  const choice = so['choice'];
  if (!Array.isArray(choice)) return;
  choice.forEach((entry, i) => {
    if (typeof entry === 'string' && entry.length > MAX_GUIDED_CHOICE_CHARS) {
      ctx.addIssue({ code: 'custom', path: ['choice', i], message: choiceTooLong(entry.length) });
    }
  });
});
