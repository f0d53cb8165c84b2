// png.read's answer for a file: form values from its parameters, and a note for all it left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LIMITS } from '../contract/generate.ts';
import { deflateSync } from 'node:zlib';
import { addTextChunks } from '../png/text-chunks.ts';
import { parametersToRequest } from './metadata.ts';
import { pngToRequest } from './png-import.ts';
import { encode } from 'fast-png';

const fixture = (name: string) => readFileSync(new URL(`../../tests/fixtures/png/${name}`, import.meta.url));
const PARAMS = 'Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 8x8';

test('prompts longer than the contract allows are cut to the limit with a note; shorter ones are untouched', () => {
  const long = parametersToRequest(`${'p'.repeat(25_000)}\nNegative prompt: ${'n'.repeat(LIMITS.promptChars + 1)}\n${PARAMS}`);
  assert.equal(long.request.prompt, 'p'.repeat(LIMITS.promptChars));
  assert.equal(long.request.negativePrompt, 'n'.repeat(LIMITS.promptChars));
  assert.equal(long.request.steps, 20);
  assert.deepEqual(long.notes, [
    'the prompt in the file is 25,000 characters long; only its first 20,000 were kept (the limit)',
    'the negative prompt in the file is 20,001 characters long; only its first 20,000 were kept (the limit)',
  ]);
  const exact = parametersToRequest(`${'p'.repeat(LIMITS.promptChars)}\n${PARAMS}`);
  assert.equal(exact.request.prompt?.length, LIMITS.promptChars);
  assert.deepEqual(exact.notes, []);
  // A cut never leaves half of a surrogate pair (an emoji here) at the end.
  const emoji = parametersToRequest(`${'p'.repeat(LIMITS.promptChars - 1)}🐱🐱\n${PARAMS}`);
  assert.equal(emoji.request.prompt, 'p'.repeat(LIMITS.promptChars - 1));
});

test('pngToRequest: parameters of A1111 files, unreadable ComfyUI and plain files get a note, non-PNGs an error', () => {
  const a1111 = pngToRequest(fixture('a1111-basic.png'));
  assert.equal(a1111.request.prompt, 'a photo of a cat, masterpiece');
  assert.equal(a1111.request.steps, 28);
  // Fooocus's sampler is here, but not its GPU-built Brownian tree.
  const fooocus = pngToRequest(fixture('fooocus.png'));
  assert.equal(fooocus.request.sampler, 'dpmpp_2m_sde');
  assert.deepEqual(fooocus.notes, [
    'DPM++ 2M SDE in Fooocus draws its noise from a Brownian tree built on the GPU while its start noise comes from ' +
      "the CPU's generator; here both come from one noise source, so the image will differ from the original",
  ]);
  const bare = fixture('a1111-basic.png');
  const comfy = addTextChunks(Buffer.concat([bare.subarray(0, 33), bare.subarray(bare.indexOf('IDAT') - 4)]), {
    prompt: '{"3": {}}',
    workflow: '{}',
  });
  assert.deepEqual(pngToRequest(comfy), {
    request: {},
    notes: ['this PNG comes from ComfyUI, but its parameters could not be read: its ComfyUI graph has no nodes'],
  });
  // A1111's parameters win over another app's chunks; a ComfyUI workflow alone cannot fill the form.
  const both = addTextChunks(bare, { prompt: '{}', invokeai_metadata: '{"seed": 9}' });
  assert.equal(pngToRequest(both).request.steps, 28);
  const workflowOnly = addTextChunks(Buffer.concat([bare.subarray(0, 33), bare.subarray(bare.indexOf('IDAT') - 4)]), { workflow: '{}' });
  assert.deepEqual(pngToRequest(workflowOnly), {
    request: {},
    notes: ['this PNG holds only a ComfyUI workflow, without the graph it ran ("prompt"); it cannot fill the form'],
  });
  const none = addTextChunks(Buffer.concat([bare.subarray(0, 33), bare.subarray(bare.indexOf('IDAT') - 4)]), { Software: 'x' });
  assert.deepEqual(pngToRequest(none), { request: {}, notes: ['this PNG has no generation parameters'] });
  assert.throws(() => pngToRequest(Buffer.from('GIF89a')), /^Error: that file is not a readable PNG \(not a PNG file\)$/);
});

test('pngToRequest: notes first say which text was ignored for its size', () => {
  const bare = fixture('a1111-basic.png');
  const ihdrEnd = 33;
  const head = bare.subarray(0, ihdrEnd),
    rest = bare.subarray(bare.indexOf('IDAT') - 4);
  const zTXt = Buffer.concat([Buffer.from('parameters\0\0', 'latin1'), deflateSync(Buffer.alloc(8 * 1024 * 1024))]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(zTXt.length);
  const bomb = Buffer.concat([head, length, Buffer.from('zTXt'), zTXt, Buffer.alloc(4), rest]); // the CRC is not checked
  assert.deepEqual(pngToRequest(bomb), {
    request: {},
    notes: ['a text chunk of this PNG inflates past 1 MiB; it was ignored', 'no generation parameters could be read from this PNG'],
  });
});

test('numbers the contract refuses are left out of the form with a note', () => {
  const text = 'a cat\nSteps: 99999, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 100000x64';
  const png = addTextChunks(Buffer.from(encode({ width: 1, height: 1, data: new Uint8Array(4), channels: 4 })), { parameters: text });
  const result = pngToRequest(png);
  assert.equal(result.request.steps, undefined);
  assert.equal(result.request.width, undefined);
  assert.equal(result.request.height, 64);
  assert.equal(result.request.seed, 5);
  assert.ok(
    result.notes.some((n) => /steps \(99999\) is outside/.test(n)),
    result.notes.join('; '),
  );
  assert.ok(result.notes.some((n) => /width \(100000\) is outside/.test(n)));
});
