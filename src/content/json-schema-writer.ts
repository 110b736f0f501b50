/**
 * The generator's output and its budget: characters written, or drawn and discarded by a retry,
 * are counted, and when the budget is used up generation stops (BudgetExhausted) with the text cut
 * at the budget. The caller ties the budget to max_tokens (json-schema.ts `schemaBudget`), since
 * nothing longer can be emitted.
 */

/** Thrown inside generation when the budget is used up; caught by generateJson. */
export class BudgetExhausted extends Error {}

export interface Writer {
  write(text: string): void;
  /** Counts work that writes nothing (a drawn value thrown away). */
  spend(chars: number): void;
  mark(): number;
  /** Text written since `mark`. */
  since(mark: number): string;
  /** Forgets what was written since `mark` (its cost stays spent). */
  rollback(mark: number): void;
  text(): string;
  readonly truncated: boolean;
}

export function createWriter(budget: number): Writer {
  const parts: string[] = [];
  let used = 0;
  let truncated = false;
  const exhausted = (): never => {
    truncated = true;
    throw new BudgetExhausted();
  };
  return {
    write(text) {
      used += text.length;
      if (used > budget) {
        let keep = text.length - (used - budget);
        const last = text.charCodeAt(keep - 1);
        if (last >= 0xd800 && last <= 0xdbff) keep--; // not half a surrogate pair
        if (keep > 0) parts.push(text.slice(0, keep));
        exhausted();
      }
      parts.push(text);
    },
    spend(chars) {
      used += chars;
      if (used > budget) exhausted();
    },
    mark: () => parts.length,
    since: (mark) => parts.slice(mark).join(''),
    rollback(mark) {
      parts.length = mark;
    },
    text: () => parts.join(''),
    get truncated() {
      return truncated;
    },
  };
}
