// The Compare view's job.grid request: both axes around the Generate form's request, checked with the
// contract's GridRequestSchema as the user types, each problem reported where it belongs (base, X, Y, other).
import type { z } from 'zod';
import { GridRequestSchema, type AxisKind } from '../../../src-core/contract/experiments.ts';
import type { GenerateRequestInput } from '../../../src-core/contract/generate.ts';
import { axisFromForm, type GridAxisInput } from './axis-from-form.ts';
import type { CompareForm } from './compare-form.ts';
import type { Check } from './form.ts';

export type GridRequestInput = z.input<typeof GridRequestSchema>;

export interface GridErrors {
  base: string | null;
  x: string | null;
  y: string | null;
  other: string | null;
}

export interface GridCheck {
  request: GridRequestInput | null;
  errors: GridErrors;
  /** Cells the grid will have (0 while an axis is not valid). */
  cells: number;
}

/** "X values: enter at least one value" for the first problem, or null. */
export function firstGridError(errors: GridErrors): string | null {
  if (errors.base) return `Base request: ${errors.base}`;
  if (errors.x) return `X values: ${errors.x}`;
  if (errors.y) return `Y values: ${errors.y}`;
  return errors.other;
}

function describePath(path: ReadonlyArray<PropertyKey>): string {
  const rest = path.slice(1).map(String);
  if (rest[0] === 'values' && rest.length >= 2)
    return `value ${Number(rest[1]) + 1}${rest.length > 2 ? ` (${rest.slice(2).join('.')})` : ''}: `;
  return rest.length ? `${rest.join('.')}: ` : '';
}

/**
 * The job.grid request for the axes and the Generate form's request (`base`), with one error per
 * place (base, X, Y, other) as the contract's schema reports them.
 */
export function buildGridRequest(form: CompareForm, base: Check<GenerateRequestInput>): GridCheck {
  const errors: GridErrors = { base: null, x: null, y: null, other: null };
  const x = axisFromForm(form.x);
  if (x.error !== undefined) errors.x = x.error;
  let y: Check<GridAxisInput> | null = null;
  if (form.y.kind !== 'none') {
    if (form.y.kind === form.x.kind) errors.y = 'the Y axis must vary something other than the X axis';
    else {
      y = axisFromForm(form.y);
      if (y.error !== undefined) errors.y = y.error;
    }
  }
  if (base.error !== undefined) errors.base = base.error;
  const cells = x.value ? x.value.values.length * (y?.value ? y.value.values.length : 1) : 0;
  if (errors.base || errors.x || errors.y || !x.value || !base.value) return { request: null, errors, cells: errors.y ? 0 : cells };
  const request: GridRequestInput = { base: { ...base.value, count: 1, batchSize: 1 }, x: x.value };
  if (y?.value) request.y = y.value;
  const checked = GridRequestSchema.safeParse(request);
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const where = issue.path[0];
      const slot: keyof GridErrors = where === 'x' || where === 'y' || where === 'base' ? where : 'other';
      const text = `${describePath(issue.path)}${issue.message}`;
      errors[slot] = errors[slot] ? `${errors[slot]}; ${text}` : text;
    }
    return { request: null, errors, cells };
  }
  return { request, errors, cells };
}

export function axisKinds(request: Pick<GridRequestInput, 'x' | 'y'>): AxisKind[] {
  return request.y ? [request.x.kind, request.y.kind] : [request.x.kind];
}
