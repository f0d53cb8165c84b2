import { test } from 'node:test';
import assert from 'node:assert/strict';
import { insertAtCursor, loraTag } from './insert-text.ts';

test('a LoRA tag goes where the cursor is, one space from the words around it', () => {
  assert.deepEqual(insertAtCursor('a cat', 5, 5, loraTag('style')), { text: 'a cat <lora:style:1>', caret: 20 });
  assert.deepEqual(insertAtCursor('a cat, night', 5, 5, loraTag('s')), { text: 'a cat <lora:s:1>, night', caret: 16 });
  assert.deepEqual(insertAtCursor('', 0, 0, 'emb'), { text: 'emb', caret: 3 });
  assert.deepEqual(insertAtCursor('a dog', 2, 5, 'cat'), { text: 'a cat', caret: 5 });
  assert.deepEqual(insertAtCursor('ab', 1, 1, 'x'), { text: 'a x b', caret: 3 });
  assert.deepEqual(insertAtCursor('ab', 99, 99, 'x'), { text: 'ab x', caret: 4 });
});
