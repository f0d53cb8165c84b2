// A stand-in for the 'electron' module, bundled into the desktop main process and preload by
// tests/desktop-wiring.test.ts (no Electron binary on these machines): it records what the app asks of
// Electron (window options, handlers, session permission handlers, the studio:// protocol) on
// globalThis.__fakeElectron, where the test reads and drives them. Only what electron/desktop uses.
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

type Handler = (...args: any[]) => any;

export interface FakeWindow {
  options: any;
  listeners: Map<string, Handler>;
  windowOpenHandler?: Handler;
  loaded?: string;
  sent: unknown[][];
  webContents: any;
}

export interface FakeElectron {
  privilegedSchemes: unknown[];
  protocolHandlers: Map<string, (request: Request) => Promise<Response> | Response>;
  ipcHandlers: Map<string, Handler>;
  appListeners: Map<string, Handler[]>;
  windows: FakeWindow[];
  session: {
    permissionRequest?: Handler;
    permissionCheck?: Handler;
    devicePermission?: Handler;
  };
  /** The preload's exposeInMainWorld calls. */
  exposed: Map<string, any>;
  /** What the preload sent through ipcRenderer.invoke. */
  invoked: unknown[][];
  ipcRendererListeners: Map<string, Handler[]>;
  forks: { script: string; options: any }[];
  /** The template given to Menu.setApplicationMenu. */
  menu?: unknown;
  errors: string[];
  ready: Promise<void>;
}

const state: FakeElectron = {
  privilegedSchemes: [],
  protocolHandlers: new Map(),
  ipcHandlers: new Map(),
  appListeners: new Map(),
  windows: [],
  session: {},
  exposed: new Map(),
  invoked: [],
  ipcRendererListeners: new Map(),
  forks: [],
  errors: [],
  ready: Promise.resolve(),
};
(globalThis as { __fakeElectron?: FakeElectron }).__fakeElectron = state;

export const app = {
  // A packaged app (electron-builder's output) where the test sets FAKE_ELECTRON_PACKAGED before loading the bundle.
  isPackaged: process.env.FAKE_ELECTRON_PACKAGED === '1',
  whenReady: () => state.ready,
  getPath: (name: string) => `/nonexistent/${name}`,
  exit: (code: number) => state.errors.push(`app.exit(${code})`),
  quit: () => undefined,
  on: (event: string, listener: Handler) => {
    state.appListeners.set(event, [...(state.appListeners.get(event) ?? []), listener]);
  },
};

export const protocol = {
  registerSchemesAsPrivileged: (schemes: unknown[]) => state.privilegedSchemes.push(...schemes),
  handle: (scheme: string, handler: (request: Request) => Promise<Response> | Response) => state.protocolHandlers.set(scheme, handler),
};

export const session = {
  defaultSession: {
    setPermissionRequestHandler: (h: Handler) => (state.session.permissionRequest = h),
    setPermissionCheckHandler: (h: Handler) => (state.session.permissionCheck = h),
    setDevicePermissionHandler: (h: Handler) => (state.session.devicePermission = h),
  },
};

export const ipcMain = { handle: (channel: string, handler: Handler) => state.ipcHandlers.set(channel, handler) };

export class BrowserWindow {
  static getAllWindows(): BrowserWindow[] {
    return state.windows.map((w) => w.webContents.owner as BrowserWindow);
  }
  readonly webContents: any;
  constructor(options: unknown) {
    const record: FakeWindow = { options, listeners: new Map(), sent: [], webContents: null };
    this.webContents = {
      owner: this,
      on: (event: string, listener: Handler) => record.listeners.set(event, listener),
      setWindowOpenHandler: (h: Handler) => (record.windowOpenHandler = h),
      send: (...args: unknown[]) => record.sent.push(args),
    };
    record.webContents = this.webContents;
    state.windows.push(record);
  }
  loadURL(url: string): Promise<void> {
    state.windows.find((w) => w.webContents === this.webContents)!.loaded = url;
    return Promise.resolve();
  }
  isDestroyed(): boolean {
    return false;
  }
}

export const Menu = { buildFromTemplate: (t: unknown) => t, setApplicationMenu: (menu: unknown) => (state.menu = menu) };
export const dialog = {
  showOpenDialog: () => Promise.resolve({ canceled: true, filePaths: [] }),
  showErrorBox: (title: string, message: string) => state.errors.push(`${title}: ${message}`),
};
export const shell = { showItemInFolder: () => undefined };
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
/** Electron's net.fetch for the file: URLs the protocol handler reads (Node's fetch has no file:). */
export const net = {
  fetch: async (url: string) => {
    const path = fileURLToPath(url);
    return new Response(await readFile(path), { headers: { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' } });
  },
};

/** The engine as a utilityProcess: answers `providers` with none and refuses everything else. */
export const utilityProcess = {
  fork(script: string, _args: string[], options: unknown) {
    state.forks.push({ script, options });
    const child = new EventEmitter() as EventEmitter & { postMessage: Handler; kill: Handler; pid: number };
    child.pid = 1;
    child.postMessage = (m: { id: number; method: string }) =>
      setImmediate(() => child.emit('message', m.method === 'providers' ? { id: m.id, result: [] } : { id: m.id, error: 'fake engine' }));
    child.kill = () => setImmediate(() => child.emit('exit', 0));
    return child;
  },
};

export const contextBridge = { exposeInMainWorld: (key: string, api: unknown) => state.exposed.set(key, api) };
export const ipcRenderer = {
  invoke: (...args: unknown[]) => {
    state.invoked.push(args);
    return Promise.resolve(null);
  },
  on: (channel: string, listener: Handler) => {
    state.ipcRendererListeners.set(channel, [...(state.ipcRendererListeners.get(channel) ?? []), listener]);
  },
  removeListener: (channel: string, listener: Handler) => {
    state.ipcRendererListeners.set(
      channel,
      (state.ipcRendererListeners.get(channel) ?? []).filter((l) => l !== listener),
    );
  },
};
