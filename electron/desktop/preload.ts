// The only bridge between the sandboxed renderer and the app: the contract's StudioApi, nothing
// else of Node or Electron. Payloads are validated on the main side before they reach the engine.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

contextBridge.exposeInMainWorld('studioBridge', {
  call: (method: string, params: unknown) => ipcRenderer.invoke('studio:call', method, params),
  on: (event: string, listener: (data: unknown) => void) => {
    const handler = (_e: IpcRendererEvent, name: string, data: unknown) => {
      if (name === event) listener(data);
    };
    ipcRenderer.on('studio:event', handler);
    return () => {
      ipcRenderer.removeListener('studio:event', handler);
    };
  },
});
