// A packaged app runs its own files only. RESTART_STUDIO_ROOT (how a bundle run from the project finds it, and how
// the importer's child process is told) is dropped before any module reads it: the environment could otherwise point
// the window at other HTML, with the app's IPC, and the engine at other code. main.ts imports this module first.
import { app } from 'electron';

if (app.isPackaged) delete process.env.RESTART_STUDIO_ROOT;
