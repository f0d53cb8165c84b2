import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GalleryEntry, SweepPointEvent } from '../../../src-core/contract/api.ts';
import { SweepRequestSchema } from '../../../src-core/contract/experiments.ts';
import { experimentAccepted, startExperiment } from './experiment.ts';
import { defaultForm } from './form.ts';
import {
  accuracyState,
  buildSweepRequest,
  currentPoint,
  defaultExploreForm,
  diversityAxisLabel,
  fdFloor,
  firstSweepError,
  formatAccuracy,
  formatDiversity,
  formatFd,
  orderedPoints,
  plotData,
  seriesColor,
  SERIES_COLORS,
  sweepCsv,
  sweepJson,
  sweepProgressText,
  sweepSeries,
  sweepTotal,
  type SweepRequestInput,
  type SweepState,
} from './sweep.ts';

const PIXELS = 'RGB pixels averaged to 16x16, values in [0, 1]';

function entry(seed: number): GalleryEntry {
  return {
    id: `i${seed}`,
    url: `/gallery/i${seed}`,
    createdAt: '2025-01-01T00:00:00Z',
    seed,
    width: 32,
    height: 32,
    parameters: '',
    evaluations: 4,
    seconds: 0.1,
  };
}

function point(
  sampler: string,
  cfgScale: number,
  diversity: number,
  accuracy: number | null = null,
  fd: SweepPointEvent['fd'] = null,
): SweepPointEvent {
  return {
    jobId: 's',
    sampler,
    cfgScale,
    evaluations: 4,
    secondsPerImage: 0.01234,
    diversity,
    accuracy,
    fd,
    featureSpace: PIXELS,
    entries: [entry(0), entry(1), entry(2)],
    done: 1,
    total: 6,
  };
}

const request: SweepRequestInput = { prompt: 'a red circle', samplers: ['euler', 'dpmpp_2m'], cfgScales: [8, 1, 4], seeds: 3, steps: 4 };

test('the Explore form with defaults becomes a valid sweep request', () => {
  const form = { ...defaultForm(), prompt: 'a red circle', negativePrompt: 'blurry', schedule: 'normal' as const };
  const check = buildSweepRequest(defaultExploreForm(), form);
  assert.ok(check.request);
  assert.deepEqual(check.request, {
    prompt: 'a red circle',
    negativePrompt: 'blurry',
    samplers: ['euler', 'dpmpp_2m'],
    steps: 20,
    schedule: 'normal',
    cfgScales: [1, 2, 3, 5, 8],
    seeds: 6,
    firstSeed: 0,
  });
  assert.equal(check.images, 2 * 5 * 6);
  assert.ok(SweepRequestSchema.safeParse(check.request).success);
  const own = buildSweepRequest({ ...defaultExploreForm(), prompt: 'my own' }, form);
  assert.equal(own.request?.prompt, 'my own');
});

test('sweep errors per field', () => {
  const form = defaultForm();
  const e = buildSweepRequest(
    { ...defaultExploreForm(), samplers: [], steps: null, cfgText: '1, x', seeds: 1, firstSeed: -1 },
    form,
  ).errors;
  assert.equal(e.samplers, 'tick at least one sampler');
  assert.equal(e.steps, 'Steps is empty');
  assert.equal(e.cfgScales, '"x" is not a number');
  assert.equal(e.seeds, 'Seeds per scale must be from 2 to 64');
  assert.match(e.firstSeed ?? '', /First seed must be from 0/);
  assert.equal(firstSweepError(e), 'Samplers: tick at least one sampler');
  const many = buildSweepRequest({ ...defaultExploreForm(), cfgText: Array.from({ length: 13 }, (_, i) => i).join(',') }, form);
  assert.match(many.errors.cfgScales ?? '', /at most 12 scales/);
  const big = buildSweepRequest({ ...defaultExploreForm(), cfgText: '51' }, form);
  assert.match(big.errors.cfgScales ?? '', /above the maximum of 50/);
  const long = buildSweepRequest({ ...defaultExploreForm(), prompt: 'x'.repeat(20_001) }, form);
  assert.match(long.errors.prompt ?? '', /20000/);
  assert.equal(long.request, null);
});

test("Restart among the samplers carries the Generate form's Restart settings", () => {
  const form = { ...defaultForm(), restartMode: 'custom' as const, segments: [{ nr: '3', k: '2', tMin: '0.1', tMax: '2' }] };
  const check = buildSweepRequest({ ...defaultExploreForm(), samplers: ['restart', 'euler'] }, form);
  assert.deepEqual(check.request?.samplers, ['euler', 'restart']);
  assert.deepEqual(check.request?.restart, { segments: [[3, 2, 0.1, 2]] });
  const broken = { ...form, segments: [{ nr: '1', k: '2', tMin: '0.1', tMax: '2' }] };
  assert.match(
    buildSweepRequest({ ...defaultExploreForm(), samplers: ['restart'] }, broken).errors.samplers ?? '',
    /N_r must be at least 2/,
  );
});

test('progress names the point being made', () => {
  assert.equal(sweepTotal(request), 6);
  assert.deepEqual(currentPoint(request, 0), { sampler: 'euler', cfgScale: 8 });
  assert.deepEqual(currentPoint(request, 4), { sampler: 'dpmpp_2m', cfgScale: 1 });
  assert.equal(currentPoint(request, 6), null);
  let s: SweepState = startExperiment(request, 6);
  assert.equal(sweepProgressText(s), 'Queuing the sweep…');
  s = experimentAccepted(s, 's');
  // A point's 3 seeds are one batch of 3 (the engine reports imagesDone 0 until the batch is over): made together.
  s = { ...s, items: [point('euler', 8, 1)], progress: { jobId: 's', imagesDone: 0, images: 3, evaluation: 2, evaluations: 4 } };
  assert.equal(
    sweepProgressText(s, (x) => x.toUpperCase()),
    'Point 2 of 6 (EULER, CFG 1) · images 1–3 of 3 · evaluation 2 / 4',
  );
});

test('points in table order and the plot series: one line per sampler, gaps for missing points', () => {
  const points = [point('dpmpp_2m', 1, 0.3), point('euler', 8, 0.1), point('euler', 1, 0.5, 0.25)];
  assert.deepEqual(
    orderedPoints(request, points).map((p) => `${p.sampler} ${p.cfgScale}`),
    ['euler 1', 'euler 8', 'dpmpp_2m 1'],
  );
  const series = sweepSeries(request, points);
  assert.deepEqual(series.x, [1, 4, 8]);
  assert.deepEqual(series.diversity, [
    { sampler: 'euler', values: [0.5, null, 0.1] },
    { sampler: 'dpmpp_2m', values: [0.3, null, null] },
  ]);
  assert.deepEqual(series.accuracy[0].values, [0.25, null, null]);
  assert.deepEqual(plotData(series.x, series.diversity), [
    [1, 4, 8],
    [0.5, null, 0.1],
    [0.3, null, null],
  ]);
  assert.deepEqual(sweepSeries({ ...request, cfgScales: [2, 2, 1] }, []).x, [1, 2], 'repeated scales once');
});

test('accuracy: pending, available, or not available for this prompt/model', () => {
  assert.equal(accuracyState([]), 'pending');
  assert.equal(accuracyState([point('euler', 1, 0.2)]), 'unavailable');
  assert.equal(accuracyState([point('euler', 1, 0.2), point('euler', 2, 0.2, 0)]), 'available');
  assert.equal(formatAccuracy(null), 'n/a');
  assert.equal(formatAccuracy(0.834), '83%');
  // Three significant digits; whole numbers from 100 up.
  const diversities = [
    [16.53, '16.5'],
    [0.012345, '0.0123'],
    [1234.5, '1235'],
  ] as const;
  for (const [value, text] of diversities) assert.equal(formatDiversity(value), text);
});

test('axis label and colours', () => {
  assert.equal(diversityAxisLabel(null), 'diversity');
  assert.equal(diversityAxisLabel('evaluator features'), 'diversity · evaluator features');
  assert.equal(diversityAxisLabel(PIXELS), 'RGB pixels averaged to 16x16');
  assert.equal(diversityAxisLabel('a very long feature space name that goes on and on'), 'a very long feature space name th…');
  assert.equal(new Set(SERIES_COLORS).size, 6);
  assert.equal(seriesColor(6), seriesColor(0));
});

test('CSV and JSON exports of the points', () => {
  const points = [point('euler', 1, 0.5, 0.25, { value: 412.5, floor: 95.25 }), point('dpmpp_2m', 8, 0.3)];
  const csv = sweepCsv(points);
  assert.equal(
    csv,
    [
      'sampler,cfg_scale,nfe,seconds_per_image,diversity,accuracy,fd,fd_floor,feature_space,seeds',
      `euler,1,4,0.0123,0.5,0.25,412.5,95.25,"${PIXELS}",0 1 2`,
      `dpmpp_2m,8,4,0.0123,0.3,,,,"${PIXELS}",0 1 2`,
      '',
    ].join('\n'),
  );
  const json = sweepJson(request, PIXELS, points);
  assert.equal(json.featureSpace, PIXELS);
  assert.deepEqual(json.points[1], {
    sampler: 'dpmpp_2m',
    cfgScale: 8,
    evaluations: 4,
    secondsPerImage: 0.01234,
    diversity: 0.3,
    accuracy: null,
    fd: null,
    seeds: [0, 1, 2],
    ids: ['i0', 'i1', 'i2'],
  });
  assert.deepEqual(JSON.parse(JSON.stringify(json)).request, request);
});

test('conditional FD: a line per sampler, one floor for the sweep, "n/a" where the evaluator has no real images', () => {
  const request = { prompt: 'p', cfgScales: [1, 4], samplers: ['euler' as const, 'dpmpp_2m' as const], seeds: 3 };
  const points = [point('euler', 4, 0.2, 1, { value: 250, floor: 80.5 }), point('euler', 1, 0.3, 0.5, { value: 1234.4, floor: 80.5 })];
  assert.deepEqual(sweepSeries(request, points).fd, [
    { sampler: 'euler', values: [1234.4, 250] },
    { sampler: 'dpmpp_2m', values: [null, null] },
  ]);
  assert.equal(fdFloor(points), 80.5);
  assert.equal(fdFloor([point('euler', 1, 0.3)]), null);
  assert.equal(formatFd(points[0].fd), '250 (floor 80.5)');
  assert.equal(formatFd(null), 'n/a');
});
