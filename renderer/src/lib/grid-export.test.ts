import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisValueLabel, displayHeaders, gridExportHeader, gridMetadata } from './grid-labels.ts';
import { gridPngLayout, wrapText } from './grid.ts';
import { isPng, parametersPng, pngTextChunks, withTextChunks } from './png.ts';
import type { GridRequestInput } from './grid-request.ts';

const labels: Record<string, string> = { euler: 'Euler', euler_ancestral: 'Euler a', dpmpp_2m: 'DPM++ 2M' };
const samplerName = (n: string) => labels[n] ?? n;
const request: GridRequestInput = {
  base: {
    prompt: 'a red circle on a blue background',
    negativePrompt: 'blurry',
    seed: 9,
    steps: 20,
    cfgScale: 5,
    sampler: 'euler',
    schedule: 'karras',
    width: 64,
    height: 64,
  },
  x: { kind: 'sampler', values: ['euler', 'euler_ancestral', 'dpmpp_2m'] },
  y: { kind: 'steps', values: [2, 3] },
};

test("headers use the UI's labels, not internal names", () => {
  assert.equal(axisValueLabel('sampler', 'euler_ancestral', samplerName), 'Euler a');
  assert.equal(axisValueLabel('schedule', 'normal', samplerName), 'Normal');
  assert.equal(axisValueLabel('steps', 20, samplerName), '20 steps');
  assert.equal(axisValueLabel('cfgScale', 7.5, samplerName), 'CFG 7.5');
  assert.equal(axisValueLabel('seed', 42, samplerName), 'seed 42');
  assert.equal(axisValueLabel('restart', { preset: 'a1111' }, samplerName), 'Restart: a1111 preset');
  assert.deepEqual(displayHeaders(request, samplerName), { columns: ['Euler', 'Euler a', 'DPM++ 2M'], rows: ['2 steps', '3 steps'] });
  assert.deepEqual(displayHeaders({ ...request, y: undefined }, samplerName).rows, ['']);
});

test('long labels wrap onto lines instead of being cut', () => {
  const measure = (t: string) => t.length * 7;
  assert.deepEqual(wrapText('Restart: [[10,2,0.1,2],[5,1,0.5,4]]', 140, measure), [
    'Restart:',
    '[[10,2,0.1,2],[5,1,0.5,4]]'.slice(0, 20),
    '[[10,2,0.1,2],[5,1,0.5,4]]'.slice(20),
  ]);
  assert.deepEqual(wrapText('Euler a', 140, measure), ['Euler a']);
  const many = wrapText('one two three four five six seven eight nine ten', 35, measure, 2);
  assert.equal(many.length, 2);
  assert.match(many[1], /…$/, 'beyond the line limit the last line ends with an ellipsis');
  const layout = gridPngLayout({
    columns: ['a very long column label that wraps', 'b'],
    rows: ['r'],
    cell: 128,
    measure,
    header: ['Prompt: x', 'Seed 9'],
  });
  assert.ok(layout.columns[0].lines.length > 1, 'the label wraps');
  assert.ok(layout.columns[0].lines.every((l) => measure(l) <= 128));
  assert.deepEqual(
    layout.header.map((h) => h.text),
    ['Prompt: x', 'Seed 9'],
  );
  assert.ok(layout.cells[0][0].y > layout.columns[0].y + 2 * 16, 'the cells start below the wrapped header');
});

test('the exported grid names prompt, seed and model in its header and in its PNG metadata', () => {
  const header = gridExportHeader(request, { model: 'restart-shapes-64', samplerName });
  const text = header.join('\n');
  assert.match(text, /Prompt: a red circle on a blue background/);
  assert.match(text, /Negative prompt: blurry/);
  assert.match(text, /Seed 9/);
  assert.match(text, /Model restart-shapes-64/);
  assert.match(text, /Columns: Sampler · Rows: Steps/);
  assert.doesNotMatch(text, /Euler|20 steps/, 'what the axes vary is not in the shared line');
  assert.match(text, /CFG 5/);
  const meta = gridMetadata(
    request,
    [{ x: 0, y: 0, xLabel: 'sampler euler', yLabel: 'steps 2', entry: { seed: 9, parameters: 'a red circle\nSteps: 2, Sampler: Euler' } }],
    { model: 'restart-shapes-64', samplerName },
  );
  assert.equal(
    meta.parameters,
    'a red circle\nSteps: 2, Sampler: Euler',
    "A1111 reads the first cell's parameters, as its own grids carry",
  );
  const json = JSON.parse(meta['restart-studio-grid']);
  assert.equal(json.prompt, 'a red circle on a blue background');
  assert.equal(json.seed, 9);
  assert.equal(json.model, 'restart-shapes-64');
  assert.deepEqual(json.columns, ['Euler', 'Euler a', 'DPM++ 2M']);
});

test('text chunks go into a PNG after its header and read back', () => {
  const png = parametersPng('old');
  const out = withTextChunks(png, { parameters: 'héllo\nSteps: 2', 'restart-studio-grid': '{"a":1}' });
  assert.ok(isPng(out));
  const chunks = pngTextChunks(out);
  assert.deepEqual(
    chunks.filter(([k]) => k === 'parameters'),
    [['parameters', 'héllo\nSteps: 2']],
    'replaced, not doubled',
  );
  assert.deepEqual(
    chunks.find(([k]) => k === 'restart-studio-grid'),
    ['restart-studio-grid', '{"a":1}'],
  );
  assert.throws(() => withTextChunks(new Uint8Array([1, 2, 3]), { a: 'b' }), /not a PNG/);
});

test("Clip skip and variation: A1111's legend labels on the axes, the shared values in the exported header", () => {
  assert.equal(axisValueLabel('clipSkip', 2, samplerName), 'Clip skip: 2');
  assert.equal(axisValueLabel('variationSeed', 100, samplerName), 'Var. seed: 100');
  assert.equal(axisValueLabel('variationStrength', 0.3, samplerName), 'Var. strength: 0.3');
  const strengths: GridRequestInput = {
    base: { ...request.base, clipSkip: 2, variationSeed: 100 },
    x: { kind: 'variationStrength', values: [0, 0.5] },
  };
  assert.deepEqual(displayHeaders(strengths, samplerName).columns, ['Var. strength: 0', 'Var. strength: 0.5']);
  const shared = gridExportHeader(strengths, { model: null, samplerName })[2];
  assert.match(shared, / · Clip skip 2 · Var\. seed 100$/);
  const seeds: GridRequestInput = {
    base: { ...request.base, variationSeed: 1, variationStrength: 0.25 },
    x: { kind: 'variationSeed', values: [5, 6] },
    y: { kind: 'clipSkip', values: [1, 2] },
  };
  const line = gridExportHeader(seeds, { model: null, samplerName })[2];
  assert.match(line, / · Var\. strength 0\.25$/);
  assert.doesNotMatch(line, /Clip skip|Var\. seed/, 'what the axes vary is left out');
  assert.doesNotMatch(gridExportHeader(request, { model: null, samplerName })[2], /Clip skip|Var\./, 'nothing to say without them');
});
