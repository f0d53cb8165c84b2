// The comparison grid as the Compare view shows and exports it: headers from the queued request,
// cells as grid.cell events fill them, the "NFE n · s.ss s" line, the JSON export, and the layout
// of the exported PNG (pure: text widths come from a measuring function).
import type { Events, GridCellEvent } from '../../../src-core/contract/api.ts';
import { axisLabel } from '../../../src-core/contract/experiments.ts';
import { gridCellSettings, type CellSettings } from '../../../src-core/contract/grid-cell-settings.ts';
import type { GridRequestInput } from './grid-request.ts';
import { experimentFraction, withinText, type ExperimentEvent, type ExperimentState } from './experiment.ts';

export type GridDone = Events['grid.done'];
export type GridState = ExperimentState<GridRequestInput, GridCellEvent, GridDone>;
export type GridEvent = ExperimentEvent<GridCellEvent, GridDone>;

export function gridTotal(request: Pick<GridRequestInput, 'x' | 'y'>): number {
  return request.x.values.length * (request.y ? request.y.values.length : 1);
}

/** Column headers (X labels) and row headers (Y labels; one empty row without a Y axis). */
export function gridHeaders(request: Pick<GridRequestInput, 'x' | 'y'>): { columns: string[]; rows: string[] } {
  const label = (kind: GridRequestInput['x']['kind'], values: readonly unknown[]) => values.map((v) => axisLabel(kind, v));
  return {
    columns: label(request.x.kind, request.x.values),
    rows: request.y ? label(request.y.kind, request.y.values) : [''],
  };
}

export function cellKey(x: number, y: number): string {
  return `${x},${y}`;
}

export function cellMap(cells: readonly GridCellEvent[]): Map<string, GridCellEvent> {
  return new Map(cells.map((c) => [cellKey(c.x, c.y), c]));
}

/** The cell the engine works on now: cells are made row by row. */
export function currentCell(request: Pick<GridRequestInput, 'x' | 'y'>, done: number): { x: number; y: number } | null {
  const total = gridTotal(request);
  if (done >= total) return null;
  const columns = request.x.values.length;
  return { x: done % columns, y: Math.floor(done / columns) };
}

export function cellAlt(xLabel: string, yLabel: string): string {
  return yLabel ? `Cell ${xLabel} / ${yLabel}` : `Cell ${xLabel}`;
}

/** "NFE 21 · 0.84 s" */
export function cellCaption(cell: Pick<GridCellEvent, 'evaluations' | 'seconds'>): string {
  return `NFE ${cell.evaluations} · ${cell.seconds.toFixed(2)} s`;
}

/** "Cell 3 of 6 · evaluation 12 / 21" */
export function gridProgressText(state: Pick<GridState, 'phase' | 'total' | 'items' | 'progress'>): string {
  if (state.phase === 'starting') return 'Queuing the grid…';
  const cell = Math.min(state.items.length + 1, Math.max(state.total, 1));
  const within = withinText(state.progress);
  return `Cell ${cell} of ${state.total} · ${within ?? 'waiting for the engine…'}`;
}

export function gridProgressPercent(state: Pick<GridState, 'phase' | 'total' | 'items' | 'progress'>): number {
  return Math.round(experimentFraction(state) * 1000) / 10;
}

/** A cell of the JSON export; its A1111 settings (Clip skip, variation, seed resize) are there only where it uses them. */
export interface GridJsonCell extends CellSettings {
  x: number;
  y: number;
  xLabel: string;
  yLabel: string;
  seed: number;
  evaluations: number;
  seconds: number;
  parameters: string;
  id: string;
}

/** The "Export JSON" document: the request and every cell (row by row). */
export function gridJson(request: GridRequestInput, cells: readonly GridCellEvent[]): { request: GridRequestInput; cells: GridJsonCell[] } {
  const ordered = [...cells].sort((a, b) => a.y - b.y || a.x - b.x);
  return {
    request,
    cells: ordered.map((c) => ({
      x: c.x,
      y: c.y,
      xLabel: c.xLabel,
      yLabel: c.yLabel,
      seed: c.entry.seed,
      evaluations: c.evaluations,
      seconds: c.seconds,
      parameters: c.entry.parameters,
      id: c.entry.id,
      ...gridCellSettings(request, c.x, c.y),
    })),
  };
}

/** Display size of an image in a grid cell: small images are scaled up, large ones down. */
export function cellImageSize(width: number, height: number, side: number): { width: number; height: number } {
  const longest = Math.max(width, height, 1);
  const scale = side / longest;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** The exported PNG's cell side: the images' own size, at least 128 px, at most 512 px. */
export function exportCellSide(cells: ReadonlyArray<{ entry: { width: number; height: number } }>): number {
  const longest = Math.max(0, ...cells.map((c) => Math.max(c.entry.width, c.entry.height)));
  return Math.min(512, Math.max(128, longest));
}

/** Shortens text with "…" until measure(text) fits in max. */
export function fitText(text: string, max: number, measure: (t: string) => number): string {
  if (measure(text) <= max) return text;
  let n = text.length;
  while (n > 0 && measure(`${text.slice(0, n)}…`) > max) n--;
  return n > 0 ? `${text.slice(0, n)}…` : '';
}

/**
 * Breaks text into lines that fit in max (at spaces where it can, anywhere in a word too long for a line);
 * past maxLines the last line ends with "…".
 */
export function wrapText(text: string, max: number, measure: (t: string) => number, maxLines = Infinity): string[] {
  const lines: string[] = [];
  let line = '';
  const push = (l: string) => {
    if (l) lines.push(l);
  };
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const joined = line ? `${line} ${word}` : word;
    if (measure(joined) <= max) {
      line = joined;
      continue;
    }
    push(line);
    line = word;
    while (measure(line) > max && line.length > 1) {
      let n = line.length - 1;
      while (n > 1 && measure(line.slice(0, n)) > max) n--;
      lines.push(line.slice(0, n));
      line = line.slice(n);
    }
  }
  push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = fitText(`${kept[maxLines - 1]} ${lines[maxLines]}`, max, measure);
  if (!kept[maxLines - 1].endsWith('…')) kept[maxLines - 1] = fitText(`${kept[maxLines - 1]}……`, max, measure);
  return kept;
}

export interface PngLayoutInput {
  columns: readonly string[];
  rows: readonly string[];
  /** Width and height of the box each image is drawn in. */
  cell: number;
  measure: (text: string) => number;
  /** Lines above the grid (prompt, seed, model), wrapped to the grid's width. */
  header?: readonly string[];
}

interface LabelBox {
  text: string;
  lines: string[];
  x: number;
  y: number;
  width: number;
}

export interface PngLayout {
  width: number;
  height: number;
  header: Array<{ text: string; x: number; y: number }>;
  columns: LabelBox[];
  rows: LabelBox[];
  /** Image box and caption position per cell, indexed [y][x]. */
  cells: Array<Array<{ x: number; y: number; captionY: number }>>;
}

export const PNG_STYLE = {
  padding: 16,
  gap: 10,
  header: 28,
  caption: 20,
  maxRowHeader: 260,
  lineHeight: 17,
  maxLabelLines: 4,
} as const;

/** Where everything goes on the exported grid image. */
export function gridPngLayout({ columns, rows, cell, measure, header: headerText = [] }: PngLayoutInput): PngLayout {
  const { padding, gap, header, caption, maxRowHeader, lineHeight, maxLabelLines } = PNG_STYLE;
  const hasRows = rows.some((r) => r !== '');
  const rowHeader = hasRows ? Math.min(maxRowHeader, Math.ceil(Math.max(...rows.map(measure))) + gap) : 0;
  const left = padding + rowHeader;
  const stepX = cell + gap;
  const stepY = cell + caption + gap;
  const gridWidth = columns.length * stepX - gap;
  const width = left + gridWidth + padding;
  // The header block wraps to the whole image's width; labels wrap in their own box instead of being cut.
  const headerLines = headerText.flatMap((t) => wrapText(t, Math.max(gridWidth + rowHeader, 240), measure, maxLabelLines));
  const headerHeight = headerLines.length ? headerLines.length * lineHeight + gap : 0;
  const columnLines = columns.map((text) => wrapText(text, cell, measure, maxLabelLines));
  const columnHeight = Math.max(header, Math.max(1, ...columnLines.map((l) => l.length)) * lineHeight + gap + 1);
  const top = padding + headerHeight + columnHeight;
  const height = top + rows.length * stepY - gap + padding;
  return {
    width,
    height,
    header: headerLines.map((text, i) => ({ text, x: padding, y: padding + i * lineHeight })),
    columns: columns.map((text, i) => ({ text, lines: columnLines[i], x: left + i * stepX, y: padding + headerHeight, width: cell })),
    rows: hasRows
      ? rows.map((text, j) => ({
          text,
          lines: wrapText(text, rowHeader - gap, measure, Math.floor(cell / lineHeight)),
          x: padding,
          y: top + j * stepY,
          width: rowHeader - gap,
        }))
      : [],
    cells: rows.map((_, j) => columns.map((__, i) => ({ x: left + i * stepX, y: top + j * stepY, captionY: top + j * stepY + cell + 4 }))),
  };
}
