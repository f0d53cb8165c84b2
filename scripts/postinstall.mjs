// Runs after `npm install`. npm 11 blocks the install scripts of electron and onnxruntime-node
// (package.json "allowScripts"), because both download binaries and fail offline. Here we try
// Electron's download ourselves and only warn when it fails: offline, `npm start` then serves the
// same UI in the browser instead.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const electronInstaller = 'node_modules/electron/install.js';
if (existsSync(electronInstaller) && !existsSync('node_modules/electron/path.txt')) {
  const result = spawnSync(process.execPath, [electronInstaller], { stdio: 'pipe', timeout: 120_000, encoding: 'utf8' });
  if (result.status === 0 && existsSync('node_modules/electron/path.txt')) {
    console.log('postinstall: Electron binary installed');
  } else {
    const lines = (result.stderr || result.stdout || result.error?.message || '').trim().split('\n');
    const reason = (lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1]).trim();
    console.warn(`postinstall: the Electron binary could not be downloaded (${reason || 'no network?'}); ` +
      '`npm start` will serve the app in your browser instead.');
  }
}
