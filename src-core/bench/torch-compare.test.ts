// --compare-torch refuses what diffusers cannot run before it starts Python (the comparison itself needs torch and
// diffusers, which CI lacks; it was run on tests/fixtures/import/sd1/diffusers with Debian's torch 1.13).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { runTorchPipeline } from './torch-compare.ts';

const settings = { prompt: 'a cat', width: 64, height: 64, steps: 2, cfgScale: 7, runs: 1 };

test('--compare-torch needs --model to name a diffusers folder', () => {
  assert.throws(() => runTorchPipeline(undefined, settings), /needs --model to name a diffusers folder/);
  assert.throws(() => runTorchPipeline(DEFAULT_MODEL_DIR, settings), /needs --model to name a diffusers folder/, 'an ONNX folder');
});

test('--compare-torch says when the interpreter cannot run', () => {
  const saved = process.env.PYTHON;
  process.env.PYTHON = '/nonexistent/python3';
  try {
    assert.throws(() => runTorchPipeline('tests/fixtures/import/sd1/diffusers', settings), /could not run \/nonexistent\/python3/);
  } finally {
    if (saved === undefined) delete process.env.PYTHON;
    else process.env.PYTHON = saved;
  }
});
