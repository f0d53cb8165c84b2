// The same-prompt real reference can tell the two cases the experiment must tell apart: real images of the
// prompts a run drew score near the real-vs-real floor, real images of other attribute combinations far above it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { Evaluator } from './evaluator.ts';
import { RealFeatureBank, samePromptReference } from './real-reference.ts';
import { featureStats, frechetDistance } from './stats.ts';

const bank = RealFeatureBank.load(join(DEFAULT_MODEL_DIR, 'evaluator'));

test('the embedded model ships a bank for every prompt of its evaluator, two halves of at least 16', () => {
  assert.ok(bank, 'models/restart-shapes-64/evaluator/real_features.json is missing');
  assert.equal(bank.index.prompts.length, 336);
  assert.ok(bank.halfSize >= 16);
  assert.equal(bank.index.dim, 64);
});

test('same prompts score near the floor; other attribute combinations score far above it', () => {
  assert.ok(bank);
  const all = bank.index.prompts;
  const prompts = Array.from({ length: 24 }, (_, i) => all[i * 14]);
  const { stats, floor } = bank.reference(prompts.map((prompt) => ({ prompt, count: 8 })));
  // The floor's real set is images 0-7 of half B; images 8-15 of half B are another real set of the same prompts.
  const fresh = prompts.flatMap((p) => bank.features(p, 1, 16).slice(8));
  const same = frechetDistance(featureStats(fresh), stats);
  // The next combination in the prompt set differs in one attribute (the shape count, or the shape kind).
  const neighbours = prompts.flatMap((p) => bank.features(all[all.indexOf(p) + 1], 1, 8));
  const other = frechetDistance(featureStats(neighbours), stats);
  assert.ok(floor > 0 && floor < 100, `floor ${floor}`);
  assert.ok(same < 2 * floor, `same prompts ${same} vs floor ${floor}`);
  assert.ok(other > 20 * floor, `other prompts ${other} vs floor ${floor}`);
});

test('asking for more images than a half holds, or for an unknown prompt, fails loudly', () => {
  assert.ok(bank);
  assert.throws(() => bank.features(bank.index.prompts[0], 0, bank.halfSize + 1), /images per prompt and half/);
  assert.throws(() => bank.features('a purple elephant', 0, 1), /no prompt/);
});

test("a sweep's prompt in the user's words finds the real images of its attribute combination", async () => {
  const evaluator = await Evaluator.load(DEFAULT_MODEL_DIR);
  assert.ok(evaluator?.bank);
  // Not the prompt set's wording; the evaluator reads the attributes from the words.
  const reference = samePromptReference(evaluator, 'Two yellow squares on a black background', 6);
  assert.equal(reference?.prompt, 'two yellow squares on a black background');
  assert.equal(reference.images, 6);
  assert.ok(reference.floor > 0);
  // A sweep point whose images were real images of that combination scores near the floor; of another, far above it.
  const own = evaluator.bank.features(reference.prompt, 1, 12).slice(6);
  const other = evaluator.bank.features('two yellow circles on a black background', 1, 6);
  const ownFd = frechetDistance(featureStats(own), reference.stats),
    otherFd = frechetDistance(featureStats(other), reference.stats);
  assert.ok(ownFd < 2 * reference.floor, `own ${ownFd} vs floor ${reference.floor}`);
  assert.ok(otherFd > 5 * reference.floor, `other ${otherFd} vs floor ${reference.floor}`);
  assert.equal(samePromptReference(evaluator, 'a photo of a cat', 6), null);
  assert.equal(evaluator.bank.halfSize, 32);
  assert.equal(samePromptReference(evaluator, reference.prompt, 64)?.images, 32, 'capped at the half size');
});
