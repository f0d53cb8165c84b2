// Electron's main process: one window on the built renderer, served through the studio:// scheme
// (so the page's CSP 'self' covers gallery images too), the contract over IPC, the engine in a
// utilityProcess. Navigation away and new windows are blocked; the renderer sees no Node; web permissions
// are refused but a clipboard write (hardening.ts); studio:// adds the desktop's CSP (studio-protocol.ts). A packaged
// app has no developer tools and ignores RESTART_STUDIO_ROOT (packaged.ts, imported first).
import './packaged.ts';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  net,
  protocol,
  session,
  shell,
  type IpcMainInvokeEvent,
  type MenuItemConstructorOptions,
  type OpenDialogOptions,
} from 'electron';
import { join } from 'node:path';
import { validateCall } from '../../src-core/contract/api.ts';
import { appRoot } from '../../src-core/app-root.ts';
import { DataFolderError, StudioService } from '../service.ts';
import { utilityEngine } from './utility-engine.ts';
import { APP_ORIGIN, isAppUrl, restrictPermissions, trustedSender } from './hardening.ts';
import { studioProtocol } from './studio-protocol.ts';

protocol.registerSchemesAsPrivileged([{ scheme: 'studio', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

const root = appRoot();
const rendererDir = join(root, 'renderer', 'dist');
let service: StudioService;
/** The app's one window; IPC from anything else is refused. */
let appWindow: BrowserWindow | undefined;

/** True only for a message from the app's own window, its top frame, on the app's own pages. */
function fromAppWindow(event: IpcMainInvokeEvent): boolean {
  const fromAppContents = appWindow !== undefined && !appWindow.isDestroyed() && event.sender === appWindow.webContents;
  return trustedSender({ fromAppContents, frame: event.senderFrame });
}

/** Electron's View menu; packaged, without reloading and developer tools (a user's app is not a page in development). */
function viewMenu(): MenuItemConstructorOptions {
  if (!app.isPackaged) return { role: 'viewMenu' };
  const roles = ['resetZoom', 'zoomIn', 'zoomOut', 'togglefullscreen'] as const;
  return { label: 'View', submenu: roles.map((role) => ({ role })) };
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    title: 'Restart Studio',
    webPreferences: {
      preload: join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      // A user's packaged app has no console in which to paste what a web page tells them to.
      devTools: !app.isPackaged,
    },
  });
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  void win.loadURL(`${APP_ORIGIN}/index.html`);
  appWindow = win;
  return win;
}

/** "Add model…": the native open dialog, on the app's window (model.browse; IPC from the window only). */
async function pickPath(want: 'file' | 'folder'): Promise<string | null> {
  const options: OpenDialogOptions =
    want === 'file'
      ? {
          title: 'Add a model: a checkpoint file',
          properties: ['openFile'],
          filters: [
            { name: 'Checkpoints', extensions: ['safetensors'] },
            { name: 'All files', extensions: ['*'] },
          ],
        }
      : { title: 'Add a model: a diffusers or diffusers-ONNX folder', properties: ['openDirectory'] };
  const result =
    appWindow && !appWindow.isDestroyed() ? await dialog.showOpenDialog(appWindow, options) : await dialog.showOpenDialog(options);
  return result.canceled ? null : (result.filePaths[0] ?? null);
}

app.whenReady().then(() => {
  try {
    service = new StudioService({
      // RESTART_STUDIO_DATA: a portable or test data folder instead of the per-user one.
      dataDir: process.env.RESTART_STUDIO_DATA ?? app.getPath('userData'),
      mode: 'electron',
      spawnEngine: utilityEngine(join(__dirname, 'engine-host.cjs')),
      galleryUrl: (id) => `studio://app/gallery/${id}`,
      reveal: (path) => shell.showItemInFolder(path),
      pickPath,
    });
  } catch (error) {
    if (!(error instanceof DataFolderError)) throw error;
    dialog.showErrorBox('Restart Studio cannot start', error.message);
    app.exit(1);
    return;
  }
  // Before the window exists: its first page load already meets them.
  restrictPermissions(session.defaultSession);
  const readGallery = (id: string) => service.gallery.read(id);
  protocol.handle('studio', studioProtocol({ rendererDir, readGallery, fetchFile: (url) => net.fetch(url) }));
  ipcMain.handle('studio:call', async (event, method: unknown, params: unknown) => {
    // Before anything else: another window, a subframe or a page navigated elsewhere gets nothing.
    if (!fromAppWindow(event)) throw new Error("refused: not the app's window");
    return service.call(validateCall(method, params));
  });
  service.on((event, data) => {
    for (const win of BrowserWindow.getAllWindows()) win.webContents.send('studio:event', event, data);
  });
  Menu.setApplicationMenu(Menu.buildFromTemplate([{ role: 'fileMenu' }, { role: 'editMenu' }, viewMenu(), { role: 'windowMenu' }]));
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

app.on('window-all-closed', () => {
  service?.stop();
  if (process.platform !== 'darwin') app.quit();
});
