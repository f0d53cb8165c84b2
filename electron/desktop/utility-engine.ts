// The engine host as an Electron utilityProcess (onnxruntime-node crashes in worker_threads, and a
// separate process keeps native faults away from the window).
import { utilityProcess } from 'electron';
import type { EngineChannel } from '../engine-process.ts';
import type { HostMessage } from '../../src-core/host/protocol.ts';
import { withHugePages } from '../../src-core/model/huge-pages.ts';

export function utilityEngine(script: string): () => EngineChannel {
  return () => {
    const child = utilityProcess.fork(script, [], { serviceName: 'Restart Studio engine', stdio: 'inherit', env: withHugePages() });
    return {
      send: (m) => child.postMessage(m),
      onMessage: (l) => child.on('message', (m: unknown) => l(m as HostMessage)),
      onExit: (l) => child.on('exit', (code: number) => l(code, null)),
      kill: () => {
        child.kill();
      },
      get pid() {
        return child.pid;
      },
    };
  };
}
