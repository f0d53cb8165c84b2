// Generate jobs as a user sees them through the contract (issue 15): a cancel keeps the images that
// were finished, a cancel during "preparing…" (a long first model call) lands right after that call, batch
// count x batch size images as A1111, and the run's notes reach the job-ending event.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { modelFolder } from './helpers/model-folders.ts';
import { startStudio, TestClient, wsUrl, type Studio } from './helpers/studio.ts';

// 256x256 on the built-in model needs more than a small machine's default budget; its first UNet
// call takes seconds on two cores, which is what "preparing…" looks like on a large size.
process.env.RESTART_STUDIO_MEMORY_GB = '8';

let studio: Studio;
let client: TestClient;

before(async () => {
  studio = await startStudio({ model: DEFAULT_MODEL_DIR });
  client = await TestClient.connect(wsUrl(studio.server));
});

after(async () => {
  client?.close();
  await studio?.stop();
});

const ended = (jobId: string) =>
  Promise.race([
    client.waitFor('job.done', (d) => d.jobId === jobId, 120_000),
    client.waitFor('job.failed', (f) => f.jobId === jobId, 120_000),
  ]);

test('cancelling while image 2 of 3 runs keeps image 1: saved in the gallery and in the job-ending event', async () => {
  const { jobId } = await client.call('job.generate', { prompt: 'a red circle on a blue background', seed: 40, steps: 60, count: 3 });
  const end = ended(jobId);
  await client.waitFor('job.progress', (p) => p.jobId === jobId && p.imagesDone === 1);
  await client.call('job.cancel', { jobId });
  const result = await end;
  assert.ok('error' in result && result.cancelled, 'the job ended as cancelled');
  assert.equal(result.entries?.length, 1, 'the finished image is in the cancellation event');
  assert.equal(result.entries[0].seed, 40);
  assert.ok(
    studio.service.gallery.list().some((e) => e.id === result.entries![0].id),
    'and in the gallery',
  );
});

test('a cancel during a long first model call ("preparing…") ends the job right after that call; the next job runs', async () => {
  // 256x256 on the built-in model: one guided UNet call takes several seconds (4096 attention positions), far longer
  // than the answer to a cancel may take even on a loaded machine.
  const { jobId } = await client.call('job.generate', { prompt: 'a red circle', seed: 1, steps: 3, width: 256, height: 256 });
  const end = ended(jobId);
  await new Promise((r) => setTimeout(r, 400)); // past the prompt encoding, inside the first UNet call
  await client.call('job.cancel', { jobId });
  const result = await end;
  assert.ok('error' in result && result.cancelled, 'cancelled');
  // Order, not wall-clock time (a loaded CI machine can take any time): onnxruntime-node runs a model call
  // synchronously on the engine's thread, so the call in flight finishes, and the cancel lands right after
  // it: no second model evaluation is made.
  const evaluated = client.events.filter((e) => e.event === 'job.progress' && e.data.jobId === jobId && e.data.evaluation >= 2);
  assert.deepEqual(evaluated, [], 'no second model evaluation was made for the cancelled job');
  const next = await client.call('job.generate', { prompt: 'a blue square', seed: 2, steps: 2 });
  const done = await ended(next.jobId);
  assert.ok('entries' in done && !('error' in done) && done.entries.length === 1, 'the next job made its image');
});

test('batch count x batch size images, as A1111: image k uses seed + k', async () => {
  const { jobId } = await client.call('job.generate', { prompt: 'a green triangle', seed: 10, steps: 2, count: 2, batchSize: 2 });
  const result = await ended(jobId);
  assert.ok(!('error' in result), 'done');
  assert.deepEqual(
    result.entries.map((e) => e.seed),
    [10, 11, 12, 13],
  );
});

test("the run's notes (tokens a fixed-length UNet dropped) are in job.done", async () => {
  const fixed = await startStudio({ model: modelFolder('tiny-sd-fixed77') });
  const other = await TestClient.connect(wsUrl(fixed.server));
  try {
    const words = Array.from({ length: 120 }, (_, i) => ['red', 'circle', 'blue', 'square'][i % 4]).join(' ');
    const done = other.waitFor('job.done');
    await other.call('job.generate', { prompt: words, seed: 1, steps: 2, width: 32, height: 32 });
    assert.deepEqual((await done).notes, [
      "this model's UNet takes 77 text positions, so the prompt was cut after 75 tokens: 45 tokens dropped",
    ]);
  } finally {
    other.close();
    await fixed.stop();
  }
});

test('at most 32 jobs wait behind the running one: the next is refused in words, and a place frees up as they go', async () => {
  const running = await client.call('job.generate', { prompt: 'a red circle', seed: 1, steps: 500, count: 20, width: 64, height: 64 });
  const waiting: string[] = [];
  try {
    for (let i = 0; i < 32; i++) {
      waiting.push((await client.call('job.generate', { prompt: 'a blue square', seed: i, steps: 1, width: 64, height: 64 })).jobId);
    }
    await assert.rejects(
      client.call('job.generate', { prompt: 'one too many', seed: 99, steps: 1, width: 64, height: 64 }),
      /32 jobs are already waiting: send this one when some of them have finished/,
    );
    await client.call('job.cancel', { jobId: waiting.pop()! });
    waiting.push((await client.call('job.generate', { prompt: 'now there is room', seed: 98, steps: 1, width: 64, height: 64 })).jobId);
  } finally {
    for (const jobId of waiting) await client.call('job.cancel', { jobId });
    const end = ended(running.jobId);
    await client.call('job.cancel', { jobId: running.jobId });
    await end;
  }
});
