import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldAria } from './field.ts';

test('a field is described by its hint, the ids it names, then its error; invalid while it has an error', () => {
  assert.deepEqual(fieldAria('steps', {}), { describedBy: undefined, invalid: false });
  assert.deepEqual(fieldAria('steps', { hint: 'whole numbers' }), { describedBy: 'steps-hint', invalid: false });
  assert.deepEqual(fieldAria('steps', { hint: 'h', error: 'too big', describedBy: ['image-total', null, false, undefined] }), {
    describedBy: 'steps-hint image-total steps-error',
    invalid: true,
  });
  assert.deepEqual(fieldAria('x', { hint: '', error: '' }), { describedBy: undefined, invalid: false });
});
