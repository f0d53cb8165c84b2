// How a form field's parts are tied together for assistive technology: the control is described
// by its hint and its error (ids `${id}-hint` and `${id}-error`, plus any the caller names) and is
// marked invalid while it has an error. Field.svelte renders with these; kept apart to be tested.

export interface FieldAria {
  /** The ids that describe the control, space-separated; undefined when there are none. */
  describedBy: string | undefined;
  invalid: boolean;
}

export const fieldHintId = (id: string): string => `${id}-hint`;
export const fieldErrorId = (id: string): string => `${id}-error`;

export function fieldAria(
  id: string,
  parts: { hint?: string | null; error?: string | null; describedBy?: ReadonlyArray<string | null | undefined | false> },
): FieldAria {
  const ids = [parts.hint ? fieldHintId(id) : null, ...(parts.describedBy ?? []), parts.error ? fieldErrorId(id) : null];
  const kept = ids.filter((x): x is string => typeof x === 'string' && x !== '');
  return { describedBy: kept.length ? kept.join(' ') : undefined, invalid: Boolean(parts.error) };
}
