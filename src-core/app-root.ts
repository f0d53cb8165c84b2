// The project's root folder (where package.json lives), found from this module's location, so paths
// to models/ and renderer/dist/ hold both when running from sources and from a bundle in out/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function appRoot(): string {
  if (cached) return cached;
  if (process.env.RESTART_STUDIO_ROOT) return (cached = process.env.RESTART_STUDIO_ROOT);
  // Bundled as CommonJS for Electron, import.meta is empty and __dirname is the bundle's folder.
  let dir = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === 'restart-studio') return (cached = dir);
      } catch {
        // keep looking upwards
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the Restart Studio folder (package.json); set RESTART_STUDIO_ROOT');
    dir = parent;
  }
}
