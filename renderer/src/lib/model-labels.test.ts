import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelSummary } from '../../../src-core/contract/models.ts';
import { addRequest, emptyAddForm, formatBytes, formatEta, importProgressText, modelKind, modelOptionLabel } from './model-labels.ts';

const model: ModelSummary = {
  dir: '/data/model-cache/sd-1',
  name: 'dreamy',
  embedded: false,
  origin: 'imported',
  family: 'SD 1',
  prediction: 'epsilon',
  precision: 'fp16',
  bytes: 2_132_000_000,
  source: '/home/me/dreamy.safetensors',
  removable: true,
};

test('sizes on disk in decimal units', () => {
  assert.deepEqual([512, 12_345, 640_000_000, 2_132_000_000].map(formatBytes), ['512 bytes', '12.3 KB', '640 MB', '2.1 GB']);
});

test('the picker shows kind, prediction, precision and size; other architectures read "custom"', () => {
  assert.equal(modelKind(model), 'SD 1 · eps · fp16 · 2.1 GB');
  assert.equal(modelOptionLabel(model), 'dreamy — SD 1 · eps · fp16 · 2.1 GB');
  assert.equal(
    modelOptionLabel({
      ...model,
      name: 'restart-shapes-64',
      embedded: true,
      family: null,
      prediction: 'v_prediction',
      precision: null,
      bytes: 3_100_000,
    }),
    'restart-shapes-64 (built-in) — custom · v · 3.1 MB',
  );
  assert.equal(modelKind({ ...model, family: 'SDXL', bytes: 6_940_000_000 }), 'SDXL · eps · fp16 · 6.9 GB');
});

test('import progress with its ETA', () => {
  assert.equal(formatEta(null), null);
  assert.equal(formatEta(0.2), 'about 1 s left');
  assert.equal(formatEta(42), 'about 42 s left');
  assert.equal(formatEta(185), 'about 3 min left');
  assert.equal(formatEta(4000), 'about 1 h 7 min left');
  assert.equal(importProgressText({ stage: 'unet', fraction: 0.456, etaSeconds: 30 }), 'Converting the UNet · 45% · about 30 s left');
  assert.equal(
    importProgressText({ stage: 'hashing', fraction: 0.05, etaSeconds: null }),
    'Checking the file · 5% · estimating time left…',
  );
  assert.equal(importProgressText({ stage: 'queued', fraction: 0, etaSeconds: null, ahead: 1 }), 'Waiting · 1 import before it');
  assert.equal(importProgressText({ stage: 'queued', fraction: 0, etaSeconds: null, ahead: 3 }), 'Waiting · 3 imports before it');
});

test('the dialog sends only what was filled in', () => {
  assert.deepEqual(addRequest(emptyAddForm()), {
    error: 'Enter the path of a checkpoint (.safetensors), a diffusers folder or a diffusers-ONNX folder',
  });
  assert.deepEqual(addRequest({ ...emptyAddForm(), path: ' /m/x.safetensors ' }), { path: '/m/x.safetensors' });
  assert.deepEqual(
    addRequest({
      path: '/m/x.safetensors',
      label: ' X ',
      precision: 'fp16',
      prediction: 'v_prediction',
      vae: '/m/vae.safetensors',
      config: '/m/arch',
    }),
    { path: '/m/x.safetensors', label: 'X', precision: 'fp16', prediction: 'v_prediction', vae: '/m/vae.safetensors', config: '/m/arch' },
  );
});
