// AUTOMATIC1111's prompt editing and alternation: `[from:to:when]`, `[to:when]`, `[from::when]` and `[a|b|c]`.
// A prompt becomes a schedule of plain texts, each used up to a step (A1111's
// get_learned_conditioning_prompt_schedules in modules/prompt_parser.py, a lark grammar parsed by Earley). The
// grammar, as its parse behaves (expected values: prompt-schedule-vectors.json, from A1111's function):
//   start:     (prompt | one of "[ ] ( ) :")*            brackets and colons left over at the top are text
//   prompt:    (emphasized | scheduled | alternate | plain | whitespace)*
//   emphasized "(" prompt ")" | "(" prompt ":" prompt ")" | "[" prompt "]"    kept as written
//   scheduled  "[" [prompt ":"] prompt ":" [ws] NUMBER [ws] "]"
//   alternate  "[" prompt ("|" [prompt])+ "]"
//   plain      any character but \ [ ] ( ) : |, or a backslash and any character but a newline (kept as written)
// A bracket at the top that does not open a whole construct is text; a prompt that does not parse at all (a `|`
// outside brackets, a backslash at the end) is one plain text for every step.
import { isPythonWhitespace } from './python-chars.ts';

/** One text of a prompt's schedule, used for the steps up to `endAt` (A1111's [end_at_step, text]). */
export interface ScheduledText {
  endAt: number;
  text: string;
}

interface Scheduled {
  kind: 'scheduled';
  before?: Item[];
  after: Item[];
  number: string;
  /** Set from `number` for one schedule (A1111 writes the step into the tree the same way). */
  when?: number;
}
interface Alternate {
  kind: 'alternate';
  options: Item[][];
}
type Item = string | Scheduled | Alternate;

// A1111's NUMBER is lark's SIGNED_NUMBER, matched greedily as this regular expression (its compiled form).
const NUMBER = /[+-]?(?:[0-9]+[eE][+-]?[0-9]+|(?:[0-9]+\.(?:[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+)/y;
const SPECIAL = new Set(['\\', '[', ']', '(', ')', ':', '|']);
/** Deeper nesting than this is read as plain text (Python's parser would exhaust its recursion first). */
const MAX_DEPTH = 200;

class ScheduleParser {
  private readonly constructs = new Map<number, { items: Item[]; end: number } | null>();
  private readonly tops = new Map<number, Item[] | null>();
  constructor(private readonly text: string) {}

  /** The end of a plain run from i (greedy, as lark's dynamic lexer matches it); i where none starts. */
  private plainEnd(i: number): number {
    const s = this.text;
    while (i < s.length) {
      const c = s[i];
      if (c === '\\') {
        if (i + 1 >= s.length || s[i + 1] === '\n') break;
        i += s.codePointAt(i + 1)! > 0xffff ? 3 : 2;
      } else if (SPECIAL.has(c)) break;
      else i++;
    }
    return i;
  }

  private whitespaceEnd(i: number): number {
    const s = this.text;
    while (i < s.length) {
      const cp = s.codePointAt(i)!;
      if (!isPythonWhitespace(cp)) break;
      i += cp > 0xffff ? 2 : 1;
    }
    return i;
  }

  /** A nested prompt from i: its items and where it stops (at a character it cannot take). */
  private prompt(i: number, depth: number): { items: Item[]; end: number } {
    const items: Item[] = [];
    let text = '';
    for (;;) {
      const end = this.plainEnd(i);
      if (end > i) {
        text += this.text.slice(i, end);
        i = end;
        continue;
      }
      const c = this.text[i];
      if (c !== '[' && c !== '(') break;
      const construct = this.construct(i, depth + 1);
      if (!construct) break;
      for (const item of construct.items) {
        if (typeof item === 'string') text += item;
        else {
          if (text) items.push(text);
          text = '';
          items.push(item);
        }
      }
      i = construct.end;
    }
    if (text) items.push(text);
    return { items, end: i };
  }

  /** `[ ... ]` or `( ... )` from i as one construct, or null where none closes there. */
  private construct(i: number, depth: number): { items: Item[]; end: number } | null {
    const known = this.constructs.get(i);
    if (known !== undefined) return known;
    const found = depth > MAX_DEPTH ? null : this.text[i] === '(' ? this.round(i, depth) : this.square(i, depth);
    this.constructs.set(i, found);
    return found;
  }

  private round(i: number, depth: number): { items: Item[]; end: number } | null {
    const first = this.prompt(i + 1, depth);
    if (this.text[first.end] === ')') return { items: ['(', ...first.items, ')'], end: first.end + 1 };
    if (this.text[first.end] !== ':') return null;
    const second = this.prompt(first.end + 1, depth);
    if (this.text[second.end] !== ')') return null;
    return { items: ['(', ...first.items, ':', ...second.items, ')'], end: second.end + 1 };
  }

  private square(i: number, depth: number): { items: Item[]; end: number } | null {
    const first = this.prompt(i + 1, depth);
    const stop = this.text[first.end];
    if (stop === ']') return { items: ['[', ...first.items, ']'], end: first.end + 1 };
    if (stop === '|') {
      const options = [first.items];
      let at = first.end;
      while (this.text[at] === '|') {
        const next = this.prompt(at + 1, depth);
        options.push(next.items);
        at = next.end;
      }
      if (this.text[at] !== ']') return null;
      return { items: [{ kind: 'alternate', options }], end: at + 1 };
    }
    if (stop !== ':') return null;
    // `[to:when]`, else `[from:to:when]`.
    const short = this.when(first.end + 1);
    if (short) return { items: [{ kind: 'scheduled', after: first.items, number: short.number }], end: short.end };
    const second = this.prompt(first.end + 1, depth);
    if (this.text[second.end] !== ':') return null;
    const long = this.when(second.end + 1);
    if (!long) return null;
    return { items: [{ kind: 'scheduled', before: first.items, after: second.items, number: long.number }], end: long.end };
  }

  /** `[ws] NUMBER [ws] ]` from i. */
  private when(i: number): { number: string; end: number } | undefined {
    NUMBER.lastIndex = this.whitespaceEnd(i);
    const match = NUMBER.exec(this.text);
    if (!match) return undefined;
    const end = this.whitespaceEnd(NUMBER.lastIndex);
    return this.text[end] === ']' ? { number: match[0], end: end + 1 } : undefined;
  }

  /**
   * The top level from i: a construct where one closes, else the bracket or colon as text. Null where the rest
   * cannot be read (a `|` or a bad backslash outside every construct).
   */
  top(i: number): Item[] | null {
    const items: Item[] = [];
    const s = this.text;
    while (i < s.length) {
      const end = this.plainEnd(i);
      if (end > i) {
        items.push(s.slice(i, end));
        i = end;
        continue;
      }
      const c = s[i];
      if (c === '[' || c === '(') {
        const construct = this.construct(i, 1);
        const rest = construct && this.topFrom(construct.end);
        if (construct && rest) return [...items, ...construct.items, ...rest];
      }
      if (c === '[' || c === ']' || c === '(' || c === ')' || c === ':') {
        items.push(c);
        i++;
        continue;
      }
      return null;
    }
    return items;
  }

  private topFrom(i: number): Item[] | null {
    if (!this.tops.has(i)) this.tops.set(i, this.top(i));
    return this.tops.get(i)!;
  }
}

function visit(items: readonly Item[], onScheduled: (s: Scheduled) => void, onAlternate: () => void): void {
  for (const item of items) {
    if (typeof item === 'string') continue;
    if (item.kind === 'scheduled') {
      onScheduled(item);
      if (item.before) visit(item.before, onScheduled, onAlternate);
      visit(item.after, onScheduled, onAlternate);
    } else {
      onAlternate();
      for (const option of item.options) visit(option, onScheduled, onAlternate);
    }
  }
}

function textAt(items: readonly Item[], step: number): string {
  let out = '';
  for (const item of items) {
    if (typeof item === 'string') out += item;
    else if (item.kind === 'scheduled') out += textAt(step <= item.when! ? (item.before ?? []) : item.after, step);
    else out += textAt(item.options[(step - 1) % item.options.length], step);
  }
  return out;
}

/** Whether a prompt uses editing or alternation (a prompt without either is one text at every step). */
export function hasScheduling(prompt: string): boolean {
  if (!prompt.includes('[')) return false;
  const items = new ScheduleParser(prompt).top(0);
  return items !== null && items.some((item) => typeof item !== 'string');
}

/**
 * A prompt's schedule for `steps` (A1111's get_learned_conditioning_prompt_schedules): texts in order, each used
 * while the step is at most its endAt; the last ends at the steps. `when` with a dot is a fraction of the steps,
 * without one a step; A1111 truncates toward zero and caps it at the steps, and an edit at step 0 or below is the
 * `to` text throughout. Alternation switches at every step. For hires fix's second pass (`hires`): `steps` is
 * that pass's, a whole `when` counts from the end of the first pass (`firstPassSteps`), a fraction from 1.0 (so
 * `[a:b:1.5]` switches halfway through it).
 */
export function promptSchedule(prompt: string, steps: number, hires?: { firstPassSteps: number }): ScheduledText[] {
  const items = prompt.includes('[') ? new ScheduleParser(prompt).top(0) : null;
  if (!items || items.every((item) => typeof item === 'string')) return [{ endAt: steps, text: prompt }];
  const intOffset = hires ? hires.firstPassSteps : 0,
    floatOffset = hires ? 1 : 0;
  const ends = new Set([steps]);
  let alternates = false;
  visit(
    items,
    (s) => {
      const v = Number(s.number);
      s.when = Math.min(steps, Math.trunc(s.number.includes('.') ? (v - floatOffset) * steps : v - intOffset));
      if (s.when >= 1) ends.add(s.when);
    },
    () => (alternates = true),
  );
  if (alternates) for (let t = 1; t <= steps; t++) ends.add(t);
  return [...ends].sort((a, b) => a - b).map((endAt) => ({ endAt, text: textAt(items, endAt) }));
}

/**
 * The index of the text used at a pass's evaluation `evaluation` (from 0), given each text's endAt: A1111's
 * CFGDenoiser counts every model evaluation as a step (a second-order sampler's two, Restart's extra ones), and
 * reconstruct_cond_batch takes the first text whose endAt is at least that count, or the first text when the count
 * is past them all.
 */
export function scheduleIndexAt(ends: readonly number[], evaluation: number): number {
  const index = ends.findIndex((endAt) => evaluation <= endAt);
  return index < 0 ? 0 : index;
}
