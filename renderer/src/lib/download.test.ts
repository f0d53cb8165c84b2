import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportFileName } from './download.ts';

test('export file names carry what and when (local time)', () => {
  assert.equal(exportFileName('grid', 'csv', new Date(2025, 0, 31, 14, 5, 9)), 'restart-studio-grid-20250131-140509.csv');
  assert.equal(exportFileName('sweep-plot', 'png', new Date(2025, 10, 2, 3, 4, 5)), 'restart-studio-sweep-plot-20251102-030405.png');
});
