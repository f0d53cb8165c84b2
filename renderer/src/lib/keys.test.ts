import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCancelShortcut, isGenerateShortcut } from './keys.ts';

const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...mods,
});

test('shortcuts: Ctrl/Cmd+Enter generates, Esc cancels', () => {
  assert.ok(isGenerateShortcut(key('Enter', { ctrlKey: true })));
  assert.ok(isGenerateShortcut(key('Enter', { metaKey: true })));
  assert.ok(!isGenerateShortcut(key('Enter')));
  assert.ok(isCancelShortcut(key('Escape')));
  assert.ok(!isCancelShortcut(key('Escape', { ctrlKey: true })));
});
