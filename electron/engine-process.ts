// The main side's handle on the engine host process: requests with replies, events, and restart
// when the process dies. A crash fails the job in flight and nothing else; the model is reloaded.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { appRoot } from '../src-core/app-root.ts';
import type { HostEvent, HostMessage, HostRequest } from '../src-core/host/protocol.ts';

/** How the host process is started: child_process.fork here, utilityProcess in Electron. */
export interface EngineChannel {
  send(message: HostRequest): void;
  onMessage(listener: (message: HostMessage) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(): void;
  pid?: number;
}

export const ENGINE_HOST_SCRIPT = join(appRoot(), 'src-core', 'host', 'engine-host.ts');

export function forkEngine(): EngineChannel {
  // A parent run with --expose-gc (the soak) passes it on, so the engine's memory figures count live objects.
  const gcFlag = typeof (globalThis as { gc?: unknown }).gc === 'function' ? ['--expose-gc'] : [];
  const child = fork(ENGINE_HOST_SCRIPT, [], { execArgv: ['--import', 'tsx', ...gcFlag], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    send: (m) => { if (child.connected) child.send(m); },
    onMessage: (l) => child.on('message', (m) => l(m as HostMessage)),
    onExit: (l) => child.on('exit', (code, signal) => l(code, signal)),
    kill: () => child.kill('SIGKILL'),
    pid: child.pid,
  };
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type Method = HostRequest['method'];

export class EngineProcess {
  private channel!: EngineChannel;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private readonly activeJobs = new Set<string>();
  private stopped = false;
  private lastLoad: { dir: string; provider: string } | undefined;
  restarts = 0;

  constructor(
    private readonly spawn: () => EngineChannel,
    private readonly onEvent: (event: HostEvent) => void,
    private readonly onStatus: (state: 'crashed' | 'restarting' | 'ready', message?: string) => void,
    /** After a restart: the model reloaded, or why none is loaded now. */
    private readonly onReloaded: (result: { model: unknown } | { error: string }) => void = () => undefined,
  ) {
    this.start();
  }

  get pid(): number | undefined { return this.channel.pid; }

  private start(): void {
    const channel = this.spawn();
    this.channel = channel;
    channel.onMessage((message) => {
      if ('event' in message) {
        if (message.event === 'done' || message.event === 'failed' || message.event === 'gridDone' || message.event === 'sweepDone') this.activeJobs.delete(message.jobId);
        this.onEvent(message);
        return;
      }
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if ('error' in message) pending.reject(new Error(message.error));
      else pending.resolve(message.result);
    });
    channel.onExit((code, signal) => {
      if (this.channel !== channel) return;
      for (const p of this.pending.values()) p.reject(new Error('the engine stopped unexpectedly'));
      this.pending.clear();
      if (this.stopped) return;
      const why = signal ? `signal ${signal}` : `exit code ${code}`;
      for (const jobId of this.activeJobs) {
        this.onEvent({ event: 'failed', jobId, error: `the engine stopped unexpectedly (${why}) during this job; it has been restarted`, cancelled: false });
      }
      this.activeJobs.clear();
      this.onStatus('crashed', `the engine stopped unexpectedly (${why})`);
      this.restarts++;
      this.onStatus('restarting');
      this.start();
      // Reload the last model that loaded successfully (never one whose load failed).
      if (!this.lastLoad) return this.onStatus('ready');
      this.request('load', this.lastLoad).then(
        (model) => { this.onReloaded({ model }); this.onStatus('ready'); },
        (error: Error) => {
          const message = `the model could not be reloaded after the restart: ${error.message}`;
          this.onReloaded({ error: message });
          this.onStatus('ready', message);
        },
      );
    });
  }

  request<T = unknown>(method: Method, params: object): Promise<T> {
    const id = this.nextId++;
    const isJob = method === 'generate' || method === 'grid' || method === 'sweep';
    if (isJob) this.activeJobs.add((params as { jobId: string }).jobId);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.channel.send({ id, method, params } as HostRequest);
    }).then((result) => {
      if (method === 'load') this.lastLoad = params as { dir: string; provider: string };
      return result;
    }, (error: Error) => {
      if (isJob) this.activeJobs.delete((params as { jobId: string }).jobId);
      throw error;
    });
  }

  stop(): void {
    this.stopped = true;
    this.channel.kill();
  }
}
