import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GalleryEntry, GridCellEvent } from '../../../src-core/contract/api.ts';
import type { GridRequestInput } from './grid-request.ts';
import {
  cellAlt,
  cellCaption,
  cellImageSize,
  cellMap,
  currentCell,
  exportCellSide,
  fitText,
  gridHeaders,
  gridJson,
  gridPngLayout,
  gridProgressPercent,
  gridProgressText,
  gridTotal,
  PNG_STYLE,
  type GridState,
} from './grid.ts';
import { experimentAccepted, startExperiment } from './experiment.ts';

const request: GridRequestInput = {
  base: { prompt: 'a red circle', seed: 9 },
  x: { kind: 'sampler', values: ['euler', 'heun'] },
  y: { kind: 'cfgScale', values: [3, 7.5] },
};

function entry(id: string, seed = 9): GalleryEntry {
  return {
    id,
    url: `/gallery/${id}`,
    createdAt: '2025-01-01T00:00:00Z',
    seed,
    width: 32,
    height: 32,
    parameters: `p ${id}`,
    evaluations: 4,
    seconds: 0.5,
  };
}

function cell(x: number, y: number): GridCellEvent {
  return {
    jobId: 'g',
    x,
    y,
    xLabel: ['sampler euler', 'sampler heun'][x],
    yLabel: ['CFG 3', 'CFG 7.5'][y],
    entry: entry(`e${x}${y}`),
    evaluations: 4 + x * 3,
    seconds: 0.1234 + y,
    done: y * 2 + x + 1,
    total: 4,
  };
}

test('headers come from the request with the contract labels', () => {
  assert.equal(gridTotal(request), 4);
  assert.deepEqual(gridHeaders(request), { columns: ['sampler euler', 'sampler heun'], rows: ['CFG 3', 'CFG 7.5'] });
  const oneAxis = { ...request, y: undefined };
  assert.equal(gridTotal(oneAxis), 2);
  assert.deepEqual(gridHeaders(oneAxis).rows, ['']);
  assert.deepEqual(
    gridHeaders({ ...request, x: { kind: 'restart', values: [{ preset: 'a1111' }, { segments: [[3, 2, 0.1, 2]] }] } }).columns,
    ['restart a1111', 'restart [[3,2,0.1,2]]'],
  );
});

test('cells: lookup, the one being made, alt text and caption', () => {
  const map = cellMap([cell(1, 0)]);
  assert.equal(map.get('1,0')?.entry.id, 'e10');
  assert.equal(map.get('0,0'), undefined);
  assert.deepEqual(currentCell(request, 0), { x: 0, y: 0 });
  assert.deepEqual(currentCell(request, 3), { x: 1, y: 1 });
  assert.equal(currentCell(request, 4), null);
  assert.equal(cellAlt('sampler euler', 'CFG 3'), 'Cell sampler euler / CFG 3');
  assert.equal(cellAlt('sampler euler', ''), 'Cell sampler euler');
  assert.equal(cellCaption({ evaluations: 21, seconds: 0.8349 }), 'NFE 21 · 0.83 s');
  assert.equal(cellCaption({ evaluations: 4, seconds: 12 }), 'NFE 4 · 12.00 s');
});

test('progress: cell i of n and the evaluation within it', () => {
  let s: GridState = startExperiment(request, 4);
  assert.equal(gridProgressText(s), 'Queuing the grid…');
  s = experimentAccepted(s, 'g');
  assert.equal(gridProgressText(s), 'Cell 1 of 4 · waiting for the engine…');
  s = { ...s, items: [cell(0, 0)], progress: { jobId: 'g', imagesDone: 0, images: 1, evaluation: 7, evaluations: 14 } };
  assert.equal(gridProgressText(s), 'Cell 2 of 4 · evaluation 7 / 14');
  assert.equal(gridProgressPercent(s), 37.5);
});

test('the JSON export: the request and every cell row by row', () => {
  const json = gridJson(request, [cell(1, 1), cell(0, 0), cell(0, 1), cell(1, 0)]);
  assert.deepEqual(json.request, request);
  assert.deepEqual(
    json.cells.map((c) => [c.x, c.y]),
    [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ],
  );
  assert.deepEqual(json.cells[1], {
    x: 1,
    y: 0,
    xLabel: 'sampler heun',
    yLabel: 'CFG 3',
    seed: 9,
    evaluations: 7,
    seconds: 0.1234,
    parameters: 'p e10',
    id: 'e10',
  });
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(json)));
});

test("the JSON export gives each cell's clip skip, variation seed and strength and seed resize, where it uses them", () => {
  const varied: GridRequestInput = {
    base: { prompt: 'a red circle', seed: 9, variationSeed: 100, clipSkip: 2, seedResizeFromWidth: 256, seedResizeFromHeight: 384 },
    x: { kind: 'variationStrength', values: [0, 0.3] },
    y: { kind: 'clipSkip', values: [1, 3] },
  };
  const settings = (c: object) =>
    Object.fromEntries(Object.entries(c).filter(([k]) => /^(clipSkip|variation|seedResize)/.test(k))) as Record<string, number>;
  const cells = gridJson(varied, [cell(0, 0), cell(1, 0), cell(0, 1), cell(1, 1)]).cells.map(settings);
  const resize = { seedResizeFromWidth: 256, seedResizeFromHeight: 384 };
  assert.deepEqual(cells, [
    // Strength 0 is no variation: no variation seed either.
    { clipSkip: 1, ...resize },
    { clipSkip: 1, variationSeed: 100, variationStrength: 0.3, ...resize },
    { clipSkip: 3, ...resize },
    { clipSkip: 3, variationSeed: 100, variationStrength: 0.3, ...resize },
  ]);
  assert.deepEqual(gridJson(request, [cell(0, 0)]).cells.map(settings), [{}], 'none set: none there');
});

test('image sizes: small images scaled up, large ones down, aspect kept', () => {
  assert.deepEqual(cellImageSize(32, 32, 160), { width: 160, height: 160 });
  assert.deepEqual(cellImageSize(768, 512, 192), { width: 192, height: 128 });
  assert.equal(exportCellSide([{ entry: { width: 32, height: 32 } }]), 128);
  assert.equal(exportCellSide([{ entry: { width: 768, height: 512 } }]), 512);
  assert.equal(exportCellSide([{ entry: { width: 256, height: 320 } }]), 320);
  assert.equal(exportCellSide([]), 128);
});

test('text is shortened to fit', () => {
  const measure = (t: string) => t.length * 10;
  assert.equal(fitText('steps 20', 100, measure), 'steps 20');
  assert.equal(fitText('restart [[3,2,0.1,2]]', 100, measure), 'restart […');
  assert.equal(fitText('abc', 5, measure), '');
});

test('the PNG layout: headers over columns, labels before rows, caption under each image', () => {
  const measure = (t: string) => t.length * 7;
  const { padding, gap, header, caption } = PNG_STYLE;
  const layout = gridPngLayout({ columns: ['sampler euler', 'sampler heun'], rows: ['CFG 3', 'CFG 7.5'], cell: 128, measure });
  const rowHeader = 7 * 7 + gap;
  assert.equal(layout.width, padding + rowHeader + 2 * 128 + gap + padding);
  assert.equal(layout.height, padding + header + 2 * (128 + caption) + gap + padding);
  assert.deepEqual(
    layout.columns.map((c) => c.x),
    [padding + rowHeader, padding + rowHeader + 128 + gap],
  );
  assert.equal(layout.rows[1].text, 'CFG 7.5');
  assert.equal(layout.rows[1].y, padding + header + 128 + caption + gap);
  assert.equal(layout.cells[1][1].captionY, layout.cells[1][1].y + 128 + 4);
  assert.ok(layout.cells[1][1].captionY + 14 <= layout.height - padding + gap, 'the caption fits');
  const single = gridPngLayout({ columns: ['steps 4', 'steps 8', 'steps 16'], rows: [''], cell: 200, measure });
  assert.equal(single.rows.length, 0, 'no row headers without a Y axis');
  assert.equal(single.columns[0].x, padding);
  assert.equal(single.width, padding + 3 * 200 + 2 * gap + padding);
});
