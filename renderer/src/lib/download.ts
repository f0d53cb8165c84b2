// Saving exports: a Blob through an object URL and a temporary <a download> link (the browser or
// Electron then asks where to save it), file names with a timestamp, and canvas -> PNG Blob.

const pad = (n: number) => String(n).padStart(2, '0');

/** "restart-studio-grid-20250131-142501.csv" (local time). */
export function exportFileName(what: string, extension: string, date: Date = new Date()): string {
  const day = `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}`;
  const stamp = `${day}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
  return `restart-studio-${what}-${stamp}.${extension}`;
}

export function downloadBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.rel = 'noopener';
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once it started; give slow machines a while anyway.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export function downloadText(text: string, name: string, type: string): void {
  downloadBlob(new Blob([text], { type: `${type};charset=utf-8` }), name);
}

export function downloadJson(value: unknown, name: string): void {
  downloadText(`${JSON.stringify(value, null, 2)}\n`, name, 'application/json');
}

export function canvasToPng(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the image is too large to export'))), 'image/png');
  });
}

/** An <img> for drawing on a canvas (same-origin gallery URLs, so the canvas stays exportable). */
export async function loadImage(url: string): Promise<HTMLImageElement> {
  const image = new Image();
  image.decoding = 'async';
  image.src = url;
  await image.decode();
  return image;
}
