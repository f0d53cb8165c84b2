// The provider picker's choices for app.info: 'auto' first, then each provider in auto's order of
// preference, the CPU last, from what the engine reported its onnxruntime can use.
import type { AppInfo, ProviderName } from '../src-core/contract/api.ts';
import type { HostProvider } from '../src-core/host/protocol.ts';

const ORDER: ProviderName[] = ['auto', 'cuda', 'dml', 'coreml', 'webgpu', 'cpu'];

export function providerChoices(reported: HostProvider[]): AppInfo['providers'] {
  const byName = new Map(reported.map((p) => [p.name, p]));
  return ORDER.map((name) => {
    if (name === 'auto') return { name, available: true };
    const p = byName.get(name);
    // Not reported (the engine was not reachable): the CPU always works, the others are unknown.
    if (!p)
      return name === 'cpu' ? { name, available: true } : { name, available: false, reason: 'the engine did not report this provider' };
    if (!p.available) return { name, available: false, reason: p.reason ?? 'not available here' };
    return p.notForAuto ? { name, available: true, notForAuto: p.notForAuto } : { name, available: true };
  });
}
