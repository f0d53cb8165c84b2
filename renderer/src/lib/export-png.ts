// PNG exports drawn on a canvas: the labelled comparison grid (headers, images, the NFE/time line
// under each cell) and the sweep plot (uPlot's canvases with titles and a legend). The layout is
// computed in grid.ts, the words in grid-labels.ts; this module only draws.
import type { GridCellEvent } from '../../../src-core/contract/api.ts';
import type { GridRequestInput } from './grid-request.ts';
import { canvasToPng, loadImage } from './download.ts';
import { cellCaption, cellImageSize, cellKey, cellMap, exportCellSide, gridPngLayout, PNG_STYLE } from './grid.ts';
import { displayHeaders, gridExportHeader, gridMetadata, type GridExportFacts } from './grid-labels.ts';
import { withTextChunks } from './png.ts';

const BACKGROUND = '#15171c';
const CELL_BACKGROUND = '#242832';
const TEXT = '#e4e6eb';
const MUTED = '#9aa1b1';
const FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, Ubuntu, sans-serif";
const HEADER_FONT = `600 14px ${FONT_FAMILY}`;
const CAPTION_FONT = `12px ${FONT_FAMILY}`;
const TITLE_FONT = `13px ${FONT_FAMILY}`;

function context(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this window cannot draw on a canvas');
  return ctx;
}

/** The labelled grid as a PNG, with the prompt, seed and model over it and in its text chunks. */
export async function gridPng(request: GridRequestInput, cells: readonly GridCellEvent[], facts: GridExportFacts): Promise<Blob> {
  const { columns, rows } = displayHeaders(request, facts.samplerName);
  const side = exportCellSide(cells);
  const canvas = document.createElement('canvas');
  let ctx = context(canvas);
  ctx.font = HEADER_FONT;
  const header = gridExportHeader(request, facts);
  const layout = gridPngLayout({ columns, rows, cell: side, header, measure: (t) => ctx.measureText(t).width });
  canvas.width = layout.width;
  canvas.height = layout.height;
  ctx = context(canvas); // resizing reset the state
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, canvas.width, canvas.height);

  ctx.font = TITLE_FONT;
  ctx.fillStyle = MUTED;
  ctx.textBaseline = 'top';
  ctx.textAlign = 'left';
  for (const line of layout.header) ctx.fillText(line.text, line.x, line.y);
  ctx.font = HEADER_FONT;
  ctx.fillStyle = TEXT;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'center';
  const lineHeight = PNG_STYLE.lineHeight;
  for (const c of layout.columns) {
    c.lines.forEach((line, i) => ctx.fillText(line, c.x + c.width / 2, c.y + lineHeight / 2 + 5 + i * lineHeight));
  }
  ctx.textAlign = 'right';
  for (const r of layout.rows) {
    const first = r.y + side / 2 - ((r.lines.length - 1) * lineHeight) / 2;
    r.lines.forEach((line, i) => ctx.fillText(line, r.x + r.width, first + i * lineHeight));
  }

  const byKey = cellMap(cells);
  const images = new Map<string, HTMLImageElement>();
  await Promise.all(
    cells.map(async (c) => {
      images.set(cellKey(c.x, c.y), await loadImage(c.entry.url));
    }),
  );

  ctx.font = CAPTION_FONT;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  layout.cells.forEach((row, y) =>
    row.forEach((box, x) => {
      const cell = byKey.get(cellKey(x, y));
      const image = images.get(cellKey(x, y));
      if (!cell || !image) {
        ctx.fillStyle = CELL_BACKGROUND;
        ctx.fillRect(box.x, box.y, side, side);
        ctx.fillStyle = MUTED;
        ctx.fillText('not made', box.x + side / 2, box.captionY);
        return;
      }
      const size = cellImageSize(image.naturalWidth, image.naturalHeight, side);
      ctx.imageSmoothingEnabled = Math.max(image.naturalWidth, image.naturalHeight) > side;
      ctx.drawImage(image, box.x + (side - size.width) / 2, box.y + (side - size.height) / 2, size.width, size.height);
      ctx.fillStyle = MUTED;
      ctx.fillText(cellCaption(cell), box.x + side / 2, box.captionY);
    }),
  );
  const png = new Uint8Array(await (await canvasToPng(canvas)).arrayBuffer());
  return new Blob([withTextChunks(png, gridMetadata(request, cells, facts)).slice()], { type: 'image/png' });
}

export interface PlotPanel {
  title: string;
  subtitle?: string;
  canvas: HTMLCanvasElement;
}

/** The sweep plot as a PNG: each panel's canvas under its title, a legend, and an optional note. */
export function plotPng(
  panels: readonly PlotPanel[],
  legend: ReadonlyArray<{ label: string; color: string }>,
  note?: string,
): Promise<Blob> {
  const ratio = Math.max(1, panels[0] ? panels[0].canvas.width / Math.max(1, panels[0].canvas.clientWidth || panels[0].canvas.width) : 1);
  const px = (n: number) => Math.round(n * ratio);
  const pad = px(16);
  const titleH = px(22),
    subtitleH = px(18),
    legendH = px(24),
    noteH = px(20);
  const width = Math.max(px(320), ...panels.map((p) => p.canvas.width)) + 2 * pad;
  let height = pad;
  for (const p of panels) height += titleH + (p.subtitle ? subtitleH : 0) + p.canvas.height + pad;
  height += legendH + (note ? noteH : 0) + pad;

  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = context(canvas);
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, width, height);
  ctx.textBaseline = 'top';
  ctx.textAlign = 'left';
  let y = pad;
  for (const p of panels) {
    ctx.font = `600 ${px(14)}px ${FONT_FAMILY}`;
    ctx.fillStyle = TEXT;
    ctx.fillText(p.title, pad, y);
    y += titleH;
    if (p.subtitle) {
      ctx.font = `${px(12)}px ${FONT_FAMILY}`;
      ctx.fillStyle = MUTED;
      ctx.fillText(p.subtitle, pad, y);
      y += subtitleH;
    }
    ctx.drawImage(p.canvas, pad, y);
    y += p.canvas.height + pad;
  }
  ctx.font = `${px(13)}px ${FONT_FAMILY}`;
  ctx.textBaseline = 'middle';
  let x = pad;
  for (const item of legend) {
    ctx.fillStyle = item.color;
    ctx.fillRect(x, y + legendH / 2 - px(2), px(18), px(4));
    x += px(24);
    ctx.fillStyle = TEXT;
    ctx.fillText(item.label, x, y + legendH / 2);
    x += ctx.measureText(item.label).width + px(18);
  }
  y += legendH;
  if (note) {
    ctx.font = `${px(12)}px ${FONT_FAMILY}`;
    ctx.fillStyle = MUTED;
    ctx.fillText(note, pad, y + noteH / 2);
  }
  return canvasToPng(canvas);
}
