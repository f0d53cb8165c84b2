// Every file in ../shared/conformance runs through the same code as `npm run conformance`, and
// the CLI itself fails (non-zero exit) on a mismatch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runConformance } from '../src-core/conformance/formats.ts';
import { HAVE_SHARED, sharedPath, sharedSkip } from './helpers/shared.ts';

const sharedDir = sharedPath('conformance/');
const files = (HAVE_SHARED ? readdirSync(sharedDir) : []).filter((f) => f.endsWith('.json'));

test('the shared conformance folder has files of every format we know', { skip: sharedSkip() }, () => {
  assert.ok(files.length >= 4, files.join(', '));
});

for (const file of files) {
  test(`conformance: ${file}`, async () => {
    const results = await runConformance(JSON.parse(readFileSync(join(sharedDir, file), 'utf8')));
    assert.ok(results.length > 0);
    for (const r of results) assert.ok(r.pass, `${r.id}: ${r.detail}`);
  });
}

// The repository's own vectors for the samplers added after the shared file's (k-diffusion's LMS, DPM2, DPM2 a,
// DPM++ 2S a, SDE, 2M SDE, 3M SDE), made by tests/fixtures/make_more_sampler_vectors.py.
test('conformance: tests/fixtures/sampler-vectors-more.json', async () => {
  const doc = JSON.parse(readFileSync(new URL('./fixtures/sampler-vectors-more.json', import.meta.url), 'utf8'));
  const results = await runConformance(doc);
  assert.ok(results.length >= 14);
  for (const r of results) assert.ok(r.pass, `${r.id}: ${r.detail}`);
});

// A1111's DPM++ 2M SDE Heun (k-diffusion's solver_type 'heun') and LCM (its sample_lcm, and its LCM denoiser's boundary
// condition where a case gives lcmGrid), made by tests/fixtures/a1111-samplers/make_a1111_sampler_vectors.py.
test('conformance: tests/fixtures/a1111-samplers/sampler-vectors-a1111.json', async () => {
  const doc = JSON.parse(readFileSync(new URL('./fixtures/a1111-samplers/sampler-vectors-a1111.json', import.meta.url), 'utf8'));
  const results = await runConformance(doc);
  assert.ok(results.length >= 7);
  for (const r of results) assert.ok(r.pass, `${r.id}: ${r.detail}`);
});

test('npm run conformance exits non-zero and names the case when a vector is wrong', () => {
  // The repository's own sampler vectors (the shared ones' format), so this runs without the shared folder.
  const doc = JSON.parse(readFileSync(new URL('./fixtures/sampler-vectors-extra.json', import.meta.url), 'utf8'));
  doc.cases = doc.cases.slice(0, 2);
  const [first, second] = doc.cases;
  doc.cases[1].expected[0][0] += 0.01;
  doc.cases[0].nfe += 1;
  const path = join(mkdtempSync(join(tmpdir(), 'conf-')), 'broken.json');
  writeFileSync(path, JSON.stringify(doc));
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src-core/conformance/cli.ts', path], { encoding: 'utf8' });
  assert.equal(run.status, 1);
  assert.match(run.stdout, new RegExp(`FAIL {2}${first.id} .*made ${first.nfe - 1} evaluations, expected ${first.nfe}`));
  assert.match(run.stdout, new RegExp(`FAIL {2}${second.id} .*error above 1e-6`));
  assert.match(run.stdout, /0 passed, 2 failed/);
});
