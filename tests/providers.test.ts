// Execution providers (issue 15): app.info lists every provider with whether this onnxruntime build and
// machine can use it and why not; model.select switches provider; the engine starts quietly (no
// onnxruntime error or Vulkan warning from probing) and says in one line what it chose and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { ENGINE_HOST_SCRIPT } from '../electron/engine-process.ts';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { withStudio } from './helpers/studio.ts';

test('app.info lists the providers with availability and reasons; model.select switches provider', async () => {
  await withStudio(DEFAULT_MODEL_DIR, async (studio, client) => {
    const info = await client.call('app.info', {});
    assert.deepEqual(
      info.providers.map((p) => p.name),
      ['auto', 'cuda', 'dml', 'coreml', 'webgpu', 'cpu'],
    );
    for (const p of info.providers) {
      if (p.available) assert.equal(p.reason, undefined, p.name);
      else assert.ok(p.reason && p.reason.length > 10, `${p.name} says why it is unavailable`);
      if (p.notForAuto) assert.ok(p.available && p.notForAuto.length > 10, `${p.name} says why auto passes it over`);
    }
    assert.ok(info.providers.find((p) => p.name === 'cpu')?.available);
    assert.equal(info.providerChoice, 'cpu');
    if (process.platform === 'linux') assert.match(info.providers.find((p) => p.name === 'dml')!.reason!, /only available on Windows/);
    const switched = await client.call('model.select', { dir: DEFAULT_MODEL_DIR, provider: 'auto' });
    assert.equal(switched.providerChoice, 'auto');
    const firstUsable = info.providers.find((p) => p.available && !p.notForAuto && p.name !== 'auto')!.name;
    assert.equal(switched.provider, firstUsable, 'auto picks the first usable provider');
  });
});

test('the engine picks a provider quietly and says once, in one line, which and why', async () => {
  const child = fork(ENGINE_HOST_SCRIPT, [], {
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stdout = '',
    stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  try {
    const reply = await new Promise<{ result?: { provider: string }; error?: string }>((resolve) => {
      child.on('message', (m) => resolve(m as { result?: { provider: string } }));
      child.send({ id: 1, method: 'load', params: { dir: DEFAULT_MODEL_DIR, provider: 'auto' } });
    });
    assert.equal(reply.error, undefined);
    await new Promise((r) => setTimeout(r, 200)); // let the pipes drain
    // eslint-disable-next-line no-control-regex -- onnxruntime's red error lines start with an ANSI escape
    assert.doesNotMatch(stderr, /\[E:onnxruntime|Vulkan|\x1b\[1;31m/, `nothing alarming on stderr:\n${stderr}`);
    const lines = stdout.trim().split('\n').filter(Boolean);
    assert.equal(lines.length, 1, `one line:\n${stdout}`);
    assert.match(lines[0], new RegExp(`^execution provider: ${reply.result!.provider} \\(auto`));
  } finally {
    child.kill('SIGKILL');
  }
});
