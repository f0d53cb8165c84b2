// `npm run generate` refuses bad input early and in words: options, init image and output folder before a
// checkpoint is imported; the engine's exact work cap; hires strengths too small for the schedule; seeds near 2^53;
// init images that are not regular files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseGenerateRequest } from '../src-core/contract/generate.ts';
import { readInitImage } from '../src-core/cli/img2img-options.ts';

const ROOT = join(import.meta.dirname, '..');
const SD2 = join(import.meta.dirname, 'fixtures', 'import', 'sd2');

/** Runs the command, which must fail within `seconds`; its exit code, stderr and time. */
async function failingGenerate(env: Record<string, string>, seconds: number, ...args: string[]) {
  const started = performance.now();
  const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'src-core/cli/generate.ts', '--prompt', 'x', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    timeout: seconds * 1000,
  });
  const error = await run.then(
    () => assert.fail('the run should fail'),
    (e: { code: number | null; stderr: string; killed?: boolean }) => e,
  );
  assert.ok(!error.killed, `still running after ${seconds} s`);
  return { code: error.code, stderr: error.stderr, seconds: (performance.now() - started) / 1000 };
}

test('bad options, init images and output folders are refused before a checkpoint is imported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'generate-early-'));
  const imports = join(dir, 'imports');
  try {
    writeFileSync(join(dir, 'a-file'), 'not a folder');
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    const model = ['--model', join(SD2, 'sd2-ldm.safetensors'), '--model-config', join(SD2, 'diffusers')];
    const out = ['--out', join(dir, 'out')];
    const env = { RESTART_STUDIO_IMPORTS: imports };
    const runs = await Promise.all([
      failingGenerate(env, 60, ...model, ...out, '--sampler', 'Euler'),
      failingGenerate(env, 60, ...model, ...out, '--steps', '0'),
      failingGenerate(env, 60, ...model, ...out, '--restart', '[[1,1,0.1,0.2]]'),
      failingGenerate(env, 60, ...model, ...out, '--init-image', join(dir, 'notes.txt')),
      failingGenerate(env, 60, ...model, '--out', join(dir, 'a-file')),
      failingGenerate(env, 60, ...model, '--out', join(dir, 'a-file', 'inside')),
    ]);
    const expected = [
      /error: invalid request: sampler: /,
      /error: invalid request: steps: /,
      /error: invalid request: restart/,
      /error: the init image cannot be used: this file is not an image/,
      /error: --out .*a-file is not a folder/,
      /error: --out .*inside: .*a-file is not a folder/,
    ];
    runs.forEach((run, k) => {
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, expected[k]!);
      assert.doesNotMatch(run.stderr, /import/, 'nothing was imported');
    });
    assert.ok(!existsSync(imports) || readdirSync(imports).length === 0, 'the import cache holds nothing');
    assert.ok(!existsSync(join(dir, 'out')), 'no output folder was made');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the command line applies the engine's exact work cap (heun makes two evaluations a step)", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'generate-cap-'));
  try {
    // 40 x 500 steps passes the schema's at-least count; heun's 999 evaluations an image do not.
    const run = await failingGenerate({}, 90, '--sampler', 'heun', '--steps', '500', '--count', '40', '--out', dir);
    assert.match(run.stderr, /error: this request makes 39,960 model evaluations .*at most 20,000 per request/);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a hires strength too small for its steps says so, not that the steps are out of range', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'generate-hires-'));
  try {
    const run = await failingGenerate({}, 90, '--hires-scale', '2', '--hires-strength', '0.001', '--steps', '20', '--out', dir);
    assert.match(
      run.stderr,
      /error: hires fix strength 0\.001 with 20 steps needs a schedule of 20000 steps \(at most 10000\): raise the hires strength/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a seed whose images would pass 2^53 - 1 is refused up front', () => {
  assert.throws(
    () => parseGenerateRequest({ prompt: 'x', seed: Number.MAX_SAFE_INTEGER, count: 3 }),
    /seed: seed 9007199254740991 with 3 images would use seeds up to 9007199254740993, .* use a seed of at most 9007199254740989/,
  );
  assert.equal(parseGenerateRequest({ prompt: 'x', seed: Number.MAX_SAFE_INTEGER - 2, count: 3 }).seed, Number.MAX_SAFE_INTEGER - 2);
});

test('--init-image refuses what is not a regular file, without reading it', { timeout: 20_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'init-image-'));
  try {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    for (const [path, kind] of [
      [dir, 'a folder'],
      [fifo, 'a named pipe (FIFO)'],
      ['/dev/zero', 'a device'],
    ]) {
      assert.throws(() => readInitImage(path), { message: `--init-image ${path} is ${kind}, not a regular file` });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an import cache that is a file is named, with the setting that chose it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'generate-cache-file-'));
  try {
    const imports = join(dir, 'a-file');
    writeFileSync(imports, 'not a folder');
    const checkpoint = join(ROOT, 'tests', 'fixtures', 'import', 'sd1', 'sd1-ldm-fp32.safetensors');
    const run = await failingGenerate({ RESTART_STUDIO_IMPORTS: imports }, 90, '--model', checkpoint, '--out', join(dir, 'out'));
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /error: cannot use the import cache .*a-file \(RESTART_STUDIO_IMPORTS, or XDG_CACHE_HOME\): it, or a folder above it, is a file/,
    );
    assert.doesNotMatch(run.stderr, /EEXIST|at .*\.ts:\d+/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
