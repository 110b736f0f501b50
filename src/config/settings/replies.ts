/** Settings of what an unscripted reply says and how long it runs, and of the scripted replies. */
import { int, oneOf, str } from './value-schemas.js';
import { settingGroup } from './define.js';

export const REPLIES_SETTINGS = settingGroup('replies', {
  content: {
    env: 'NIMSIM_CONTENT',
    schema: oneOf(['generate', 'echo']),
    default: 'generate',
    help: 'unscripted replies: generate (seeded prose) or echo (the last user message)',
    arg: '<mode>',
  },
  meanOutputTokens: {
    env: 'NIMSIM_MEAN_OUTPUT_TOKENS',
    schema: int(1),
    default: '150',
    help: 'median natural reply length in tokens when ignore_eos is off',
    arg: '<n>',
  },
  meanReasoningTokens: {
    env: 'NIMSIM_MEAN_REASONING_TOKENS',
    schema: int(1),
    default: '1000',
    help: "median reasoning tokens of a reasoning model's reply",
    arg: '<n>',
  },
  rulesFile: {
    env: 'NIMSIM_RULES_FILE',
    schema: str(),
    unsetMeans: 'none',
    help: 'YAML or JSON of scripted responses',
    arg: '<file>',
    serveOnly: true,
  },
});
