// Which providers 'auto' may pick: WebGPU only where the kernel shows a GPU (providers.ts, seesGpu). Without one,
// Vulkan offers a software renderer at best (Mesa's lavapipe), where WebGPU runs the embedded UNet 50 times slower than
// the CPU provider; it can still be chosen by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { providerAvailability, seesGpu } from './providers.ts';
import { providerCandidates } from './session.ts';

test("a GPU is seen from a DRM render node or card, an NVIDIA device or WSL's GPU, and not otherwise", () => {
  const root = mkdtempSync(join(tmpdir(), 'gpu-nodes-'));
  try {
    const machine = (files: string[]) => {
      rmSync(root, { recursive: true, force: true });
      for (const file of files) {
        mkdirSync(join(root, file, '..'), { recursive: true });
        writeFileSync(join(root, file), '');
      }
      return seesGpu(root);
    };
    assert.equal(machine([]), false);
    assert.equal(machine(['dev/null', 'dev/nvidiactl', 'dev/dri/by-path', 'sys/class/drm/version']), false);
    assert.equal(machine(['dev/dri/renderD128']), true);
    assert.equal(machine(['sys/class/drm/card0']), true);
    assert.equal(machine(['dev/nvidia0']), true);
    assert.equal(machine(['dev/dxg']), true);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('auto never picks a provider it passes over; one chosen by name is still tried', () => {
  const passedOver = providerAvailability().filter((p) => p.notForAuto);
  for (const p of passedOver) {
    assert.ok(p.available, p.name);
    assert.ok(!providerCandidates('auto').includes(p.name), `auto would try ${p.name}`);
    assert.deepEqual(providerCandidates(p.name), [p.name, 'cpu']);
  }
  // Only WebGPU on Linux is ever passed over, and only without a GPU.
  for (const p of passedOver) assert.ok(p.name === 'webgpu' && process.platform === 'linux' && !seesGpu(), p.name);
});
