// Line plots for experiment reports: vega-lite specs rendered to SVG by vega, rasterised to PNG by resvg.
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vl from 'vega-lite';

export interface LinePlot {
  title: string;
  x: { field: string; title: string; log?: boolean };
  y: { field: string; title: string; zero?: boolean };
  series: string;
  /** Optional error bars: the field holding the standard deviation of y. */
  yError?: string;
  /** Label points with this field (e.g. the CFG scale along a curve). */
  pointLabel?: string;
  rows: Array<Record<string, string | number>>;
}

export async function renderLinePlot(plot: LinePlot): Promise<Buffer> {
  const x = {
    field: plot.x.field,
    type: 'quantitative' as const,
    title: plot.x.title,
    scale: plot.x.log ? { type: 'log' as const, nice: false } : { zero: false },
  };
  const y = { field: plot.y.field, type: 'quantitative' as const, title: plot.y.title, scale: { zero: plot.y.zero ?? false } };
  const color = { field: plot.series, type: 'nominal' as const, title: null, legend: { labelLimit: 320 } };
  const layers: object[] = [
    { mark: { type: 'line', point: true }, encoding: { x, y, color, order: { field: plot.pointLabel ?? plot.x.field } } },
  ];
  if (plot.yError) {
    layers.push({
      transform: [
        { calculate: `datum['${plot.y.field}'] - datum['${plot.yError}']`, as: 'lo' },
        { calculate: `datum['${plot.y.field}'] + datum['${plot.yError}']`, as: 'hi' },
      ],
      mark: { type: 'errorbar', ticks: true },
      encoding: { x, y: { field: 'lo', type: 'quantitative', title: plot.y.title }, y2: { field: 'hi' }, color },
    });
  }
  if (plot.pointLabel)
    layers.push({ mark: { type: 'text', dx: 8, dy: -6, fontSize: 10 }, encoding: { x, y, text: { field: plot.pointLabel }, color } });
  const spec = vl.compile({
    title: plot.title,
    width: 520,
    height: 320,
    data: { values: plot.rows },
    layer: layers,
  } as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  await view.finalize();
  return new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, background: 'white', font: { loadSystemFonts: true } }).render().asPng();
}
