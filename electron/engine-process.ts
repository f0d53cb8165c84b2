// The main side's handle on the engine host process: requests with replies, events, and restart
// when the process dies. A crash fails the job in flight and nothing else; the model is reloaded.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { appRoot } from '../src-core/app-root.ts';
import { withHugePages } from '../src-core/model/huge-pages.ts';
import {
  endsJob,
  isJobRequest,
  type HostEvent,
  type HostMessage,
  type HostMethod,
  type HostModelInfo,
  type HostParams,
  type HostRequest,
  type HostResult,
} from '../src-core/host/protocol.ts';

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
  const child = fork(ENGINE_HOST_SCRIPT, [], {
    execArgv: ['--import', 'tsx', ...gcFlag],
    env: withHugePages(),
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return {
    send: (m) => {
      if (child.connected) child.send(m);
    },
    onMessage: (l) => child.on('message', (m) => l(m as HostMessage)),
    onExit: (l) => child.on('exit', (code, signal) => l(code, signal)),
    kill: () => child.kill('SIGKILL'),
    pid: child.pid,
  };
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export class EngineProcess {
  private channel!: EngineChannel;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private readonly activeJobs = new Set<string>();
  private stopped = false;
  private lastLoad: HostParams<'load'> | undefined;
  restarts = 0;

  constructor(
    private readonly spawn: () => EngineChannel,
    private readonly onEvent: (event: HostEvent) => void,
    private readonly onStatus: (state: 'crashed' | 'restarting' | 'ready', message?: string) => void,
    /** After a restart: the model reloaded, or why none is loaded now. */
    private readonly onReloaded: (result: { model: HostModelInfo } | { error: string }) => void = () => undefined,
  ) {
    this.start();
  }

  get pid(): number | undefined {
    return this.channel.pid;
  }

  private start(): void {
    const channel = this.spawn();
    this.channel = channel;
    channel.onMessage((message) => {
      if ('event' in message) {
        if (endsJob(message)) this.activeJobs.delete(message.jobId);
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
        this.onEvent({
          event: 'failed',
          jobId,
          error: `the engine stopped unexpectedly (${why}) during this job; it has been restarted`,
          cancelled: false,
        });
      }
      this.activeJobs.clear();
      this.onStatus('crashed', `the engine stopped unexpectedly (${why})`);
      this.restarts++;
      this.onStatus('restarting');
      this.start();
      // Reload the last model that loaded successfully (never one whose load failed).
      if (!this.lastLoad) return this.onStatus('ready');
      this.request('load', this.lastLoad).then(
        (model) => {
          this.onReloaded({ model });
          this.onStatus('ready');
        },
        (error: Error) => {
          const message = `the model could not be reloaded after the restart: ${error.message}`;
          this.onReloaded({ error: message });
          this.onStatus('ready', message);
        },
      );
    });
  }

  request<M extends HostMethod>(method: M, params: HostParams<M>): Promise<HostResult<M>> {
    // The one place the method map's correlation is asserted: the reply with this id answers this method
    // (the host's handlers are typed by the same map).
    const request = { id: this.nextId++, method, params } as HostRequest;
    const jobId = isJobRequest(request) ? request.params.jobId : undefined;
    if (jobId !== undefined) this.activeJobs.add(jobId);
    return new Promise<unknown>((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      this.channel.send(request);
    }).then(
      (result) => {
        if (request.method === 'load') this.lastLoad = request.params;
        return result as HostResult<M>;
      },
      (error: Error) => {
        if (jobId !== undefined) this.activeJobs.delete(jobId);
        throw error;
      },
    );
  }

  stop(): void {
    this.stopped = true;
    this.channel.kill();
  }
}
