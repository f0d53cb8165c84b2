// The renderer's one way to the engine: the contract's StudioApi, either Electron's preload bridge
// (window.studioBridge) or a WebSocket to the local server at /ws on the page's own origin.
import type { EventName, Events, Method, Params, Results, StudioApi } from '../../../src-core/contract/api.ts';

declare global {
  interface Window {
    studioBridge?: StudioApi;
  }
}

export type ConnectionState = 'connecting' | 'open' | 'reconnecting';

export interface StudioClient extends StudioApi {
  readonly mode: 'bridge' | 'websocket';
  connection(): ConnectionState;
  onConnection(listener: (state: ConnectionState) => void): () => void;
  close(): void;
}

export const CONNECTION_LOST = 'the connection to the engine was lost (reconnecting…); try again in a moment';
export const CONNECTION_NEVER_OPENED =
  'could not connect to the engine (still trying). Is Restart Studio still running? ' +
  'If it printed an address with ?token=…, open that exact address';

/** The part of a WebSocket the client uses (a browser WebSocket fits; tests pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((ev: Event) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
}

export interface WsClientOptions {
  createSocket?: (url: string) => SocketLike;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

interface LocationLike {
  protocol: string;
  host: string;
  search: string;
}

/** ws(s)://<host>/ws, plus ?token=… when the page was opened with one (non-loopback server). */
export function wsUrl(location: LocationLike): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = new URLSearchParams(location.search).get('token');
  return `${scheme}//${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

/** 0.5 s, 1 s, 2 s, 4 s, 8 s, then every 10 s. */
export function backoffDelay(attempt: number): number {
  return Math.min(500 * 2 ** Math.max(attempt, 0), 10_000);
}

type Listener = (data: unknown) => void;
interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  /** Not sent yet: waits for the socket that is connecting. */
  text: string | null;
}

const OPEN = 1;

export class WsClient implements StudioClient {
  readonly mode = 'websocket' as const;
  #url: string;
  #createSocket: (url: string) => SocketLike;
  #setTimer: (fn: () => void, ms: number) => unknown;
  #clearTimer: (handle: unknown) => void;
  #state: ConnectionState = 'connecting';
  #socket: SocketLike | null = null;
  #timer: unknown = null;
  #attempt = 0;
  #opened = false;
  #closed = false;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #listeners = new Map<string, Set<Listener>>();
  #connectionListeners = new Set<(state: ConnectionState) => void>();

  constructor(url: string, options: WsClientOptions = {}) {
    this.#url = url;
    this.#createSocket = options.createSocket ?? ((u) => new WebSocket(u));
    this.#setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.#clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
    this.#connect();
  }

  connection(): ConnectionState {
    return this.#state;
  }

  onConnection(listener: (state: ConnectionState) => void): () => void {
    this.#connectionListeners.add(listener);
    return () => this.#connectionListeners.delete(listener);
  }

  call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
    if (this.#closed) return Promise.reject(new Error('the connection to the engine is closed'));
    const socket = this.#socket;
    if (!socket) return Promise.reject(this.#lostError());
    const id = this.#nextId++;
    const text = JSON.stringify({ id, method, params });
    return new Promise<Results[M]>((resolve, reject) => {
      const open = socket.readyState === OPEN;
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, text: open ? null : text });
      if (open) this.#send(socket, id, text);
    });
  }

  on<E extends EventName>(event: E, listener: (data: Events[E]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    const l = listener as Listener;
    set.add(l);
    return () => {
      set.delete(l);
    };
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) this.#clearTimer(this.#timer);
    this.#timer = null;
    const socket = this.#socket;
    this.#socket = null;
    socket?.close();
    this.#failPending(new Error('the connection to the engine is closed'));
  }

  #send(socket: SocketLike, id: number, text: string): void {
    try {
      socket.send(text);
    } catch (error) {
      const p = this.#pending.get(id);
      this.#pending.delete(id);
      p?.reject(this.#lostError());
      void error;
    }
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    for (const l of [...this.#connectionListeners]) {
      try {
        l(state);
      } catch (error) {
        console.error('connection listener failed', error);
      }
    }
  }

  #connect(): void {
    this.#timer = null;
    if (this.#closed) return;
    let socket: SocketLike;
    try {
      socket = this.#createSocket(this.#url);
    } catch (error) {
      console.warn('could not open the engine connection', error);
      this.#lost();
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      if (socket !== this.#socket) return;
      this.#attempt = 0;
      this.#opened = true;
      this.#setState('open');
      for (const [id, p] of this.#pending) {
        if (p.text === null) continue;
        const text = p.text;
        p.text = null;
        this.#send(socket, id, text);
      }
    };
    socket.onmessage = (ev) => {
      if (socket === this.#socket) this.#receive(ev.data);
    };
    socket.onerror = () => {
      // A close event follows; reconnecting happens there.
    };
    socket.onclose = () => {
      if (socket !== this.#socket) return;
      this.#socket = null;
      this.#lost();
    };
  }

  #lostError(): Error {
    return new Error(this.#opened ? CONNECTION_LOST : CONNECTION_NEVER_OPENED);
  }

  #lost(): void {
    this.#failPending(this.#lostError());
    if (this.#closed) return;
    this.#setState('reconnecting');
    const delay = backoffDelay(this.#attempt++);
    this.#timer = this.#setTimer(() => this.#connect(), delay);
  }

  #failPending(error: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(error);
  }

  #receive(raw: unknown): void {
    let message: unknown;
    try {
      message = JSON.parse(typeof raw === 'string' ? raw : String(raw));
    } catch {
      console.warn('ignoring a message from the engine that is not JSON');
      return;
    }
    if (!message || typeof message !== 'object') return;
    const m = message as Record<string, unknown>;
    if (typeof m.event === 'string') {
      for (const l of [...(this.#listeners.get(m.event) ?? [])]) {
        try {
          l(m.data);
        } catch (error) {
          console.error(`listener for ${m.event} failed`, error);
        }
      }
      return;
    }
    if (typeof m.id !== 'number') return;
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    if ('error' in m) p.reject(new Error(typeof m.error === 'string' ? m.error : JSON.stringify(m.error)));
    else p.resolve(m.result);
  }
}

/** Electron: the preload bridge already speaks StudioApi; the connection cannot drop. */
export function bridgeClient(bridge: StudioApi): StudioClient {
  return {
    mode: 'bridge',
    call: (method, params) => bridge.call(method, params),
    on: (event, listener) => bridge.on(event, listener),
    connection: () => 'open',
    onConnection: () => () => {},
    close: () => {},
  };
}

export function createClient(win: Window = window): StudioClient {
  if (win.studioBridge) return bridgeClient(win.studioBridge);
  return new WsClient(wsUrl(win.location));
}
