// `npm run generate` checks every option it is given, and says which ones the run does not use: sampler options
// other samplers ignore, img2img options without --init-image, and restart churn with a preset are each noted and
// left out of the request (as --original-size is on a model that is not SDXL); LoRA and embedding folders that are
// not folders, and an empty --out, are refused in words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseCli } from '../src-core/cli/generate.ts';
import { readTextChunks } from '../src-core/png/text-chunks.ts';

const ROOT = join(import.meta.dirname, '..');

function parsed(...args: string[]) {
  const result = parseCli(['--prompt', 'x', '--seed', '1', ...args]);
  assert.ok(result !== 'help');
  return result;
}

test('numeric options are checked even where the run would not use them', () => {
  const refused: Array<[string[], RegExp]> = [
    [['--restart-gamma', 'abc'], /--restart-gamma needs a number \(got "abc"\)/],
    [['--sampler', 'restart', '--restart', 'a1111', '--restart-gamma', 'abc'], /--restart-gamma needs a number/],
    [['--s-min', 'x', '--sampler', 'heun'], /--s-min needs a number/],
    [['--s-noise', 'lots'], /--s-noise needs a number/],
    [['--eta', '11', '--sampler', 'euler'], /--eta 11: Too big: expected number to be <=10/],
    [['--restart-gamma', '2'], /--restart-gamma 2: Too big: expected number to be <=1/],
    [['--strength', '2'], /--strength 2: Too big/],
  ];
  for (const [args, message] of refused) assert.throws(() => parsed(...args), message, args.join(' '));
});

test('options the run does not use are left out of the request, each with a note', () => {
  const unused: Array<[string[], RegExp]> = [
    [
      ['--restart', 'a1111', '--sampler', 'euler'],
      /^--restart applies to the restart sampler only; this run samples with euler, so it was ignored$/,
    ],
    [
      ['--restart', '[[3,2,0.1,1]]', '--sampler', 'heun', '--s-max', '5'],
      /^--restart, --s-max apply to the restart sampler only; .* heun, so they/,
    ],
    [
      ['--s-noise', '0.5'],
      /^--s-noise applies to the euler_ancestral, restart, dpm_2_ancestral, .* and dpmpp_3m_sde samplers only; this run samples with euler/,
    ],
    [
      ['--eta', '0.5', '--sampler', 'ddim'],
      /^--eta applies to the euler_ancestral, dpm_2_ancestral, .* and dpmpp_3m_sde samplers only; this run samples with ddim/,
    ],
    [
      ['--sampler', 'restart', '--restart-gamma', '0.5'],
      /^--restart-gamma applies to --restart segments only; the a1111 preset takes no churn/,
    ],
    [
      ['--strength', '0.5', '--resize-mode', 'crop-and-resize', '--exact-steps'],
      /^--strength, --resize-mode, --exact-steps apply to img2img/,
    ],
  ];
  for (const [args, note] of unused) {
    const { request, notes } = parsed(...args);
    assert.equal(notes.length, 1, args.join(' '));
    assert.match(notes[0]!, note);
    // A --restart spec stays, for the request's own check: only Restart reads it, and only its PNGs record it.
    for (const field of ['eta', 'sNoise', 'strength', 'resizeMode', 'exactSteps'] as const) assert.equal(request[field], undefined);
  }
  // Used: by the hires pass's sampler, by restart segments.
  const hires = parsed('--eta', '0.5', '--s-noise', '0.9', '--hires-scale', '2', '--hires-sampler', 'euler_ancestral');
  assert.deepEqual([hires.request.eta, hires.request.sNoise, hires.notes], [0.5, 0.9, []]);
  const churn = parsed('--sampler', 'restart', '--restart', '[[3,2,0.1,1]]', '--restart-gamma', '0.5', '--s-min', '0.2');
  assert.deepEqual([churn.request.restart, churn.notes], [{ segments: [[3, 2, 0.1, 1]], restartGamma: 0.5, sMin: 0.2 }, []]);
});

test('LoRA and embedding folders must be folders, and --out must name one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'generate-folders-'));
  try {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    assert.throws(() => parsed('--lora-dir', join(dir, 'missing')), { message: `--lora-dir ${join(dir, 'missing')}: no such folder` });
    assert.throws(() => parsed('--lora-dir', file), { message: `--lora-dir ${file} is not a folder` });
    assert.throws(() => parsed('--embeddings-dir', join(file, 'x')), { message: `--embeddings-dir ${join(file, 'x')}: no such folder` });
    assert.throws(() => parsed('--embeddings-dir', ''), /--embeddings-dir needs a folder/);
    assert.throws(() => parsed('--out', ''), /--out needs a folder \(got ""\)/);
    assert.deepEqual(parsed('--lora-dir', dir).adapters.loraDirs, [dir]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm run generate prints the notes, and the PNG records none of the ignored options', async () => {
  const out = mkdtempSync(join(tmpdir(), 'generate-unused-'));
  try {
    const args = ['--sampler', 'euler', '--eta', '0.5', '--s-noise', '0.5', '--restart', 'a1111', '--strength', '0.5'];
    const { stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src-core/cli/generate.ts', '--prompt', 'a red circle', '--seed', '3', '--steps', '2', '--out', out, ...args],
      { cwd: ROOT },
    );
    for (const option of ['eta', 's-noise', 'restart', 'strength'])
      assert.match(stderr, new RegExp(`^note: --${option} applies to .* so it was ignored$`, 'm'), stderr);
    const parameters = readTextChunks(readFileSync(join(out, readdirSync(out)[0]!))).parameters;
    assert.doesNotMatch(parameters, /Eta|Sigma noise|Noise multiplier|Restart preset|Denoising strength/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
