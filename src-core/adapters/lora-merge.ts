// From LoRA modules to weight changes: each module's up @ down, scaled by multiplier x alpha / rank (A1111's and
// kohya's formula; no alpha means alpha = rank), as low-rank factors of the weight it changes. A1111's dyn=N keeps
// only the first N ranks of up and down, the scale staying alpha / the file's rank. Several LoRAs on one weight are
// joined along the rank, so the weight changes once by the sum. Modules that match no weight of the model, or whose
// shape does not fit it, are reported by name.
import type { SafetensorsFile } from '../import/safetensors.ts';
import type { LowRankDelta } from './onnx-patch.ts';
import type { LayerTable, LayerTarget } from './layer-names.ts';
import { LoraFileError, type LoraComponent, type LoraContents, type LoraModule } from './lora-file.ts';

/** A LoRA that changes nothing in this model (made for another base model): the request is refused. */
export class LoraMatchError extends Error {
  override name = 'LoraMatchError';
}

export interface LoraUse {
  /** The name the prompt used. */
  name: string;
  contents: LoraContents;
  file: SafetensorsFile;
  /** Multipliers for the text encoders and the UNet (A1111's te and unet weights). */
  te: number;
  unet: number;
  /** A1111's dyn (`<lora:x:1:dyn=8>`): the ranks kept, as Python's `[:dyn]` slice counts them; absent: all. */
  dyn?: number;
}

export interface MergeReport {
  name: string;
  matched: number;
  /** Module names (as the file writes them) that match no weight of this model, with why. */
  unmatched: Array<{ key: string; why: string }>;
  unsupported: Array<{ key: string; kind: string }>;
}

interface Factor {
  target: LayerTarget;
  /** [rows, rank] and [rank, cols] in the orientation the initializer is stored in. */
  a: Float32Array;
  b: Float32Array;
  rank: number;
  rows: number;
  cols: number;
}

/** The component tables of the model being changed, by the components LoRA files name. */
export type ComponentTables = Partial<Record<LoraComponent, LayerTable>>;

function find(tables: ComponentTables, module: LoraModule): { component: LoraComponent; target: LayerTarget } | undefined {
  const order: LoraComponent[] = module.component ? [module.component] : ['unet', 'text_encoder', 'text_encoder_2'];
  for (const component of order) {
    const table = tables[component];
    const target = module.style === 'dotted' ? table?.dotted(module.name) : table?.underscored(module.name);
    if (table && target) return { component, target };
  }
  return undefined;
}

/** How many of `rank` ranks Python's slice `[:dyn]` keeps (a negative dyn counts from the end). */
export function keptRanks(rank: number, dyn: number | undefined): number {
  if (dyn === undefined) return rank;
  return dyn >= 0 ? Math.min(dyn, rank) : Math.max(0, rank + dyn);
}

/** Whether every value is a finite number (a NaN in one factor would turn every image into NaN). */
function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/**
 * up [out, r, (1, 1)] and down [r, in, (kh, kw)] as the factors of the target's stored weight, scaled by `scale`;
 * only the first `kept` of the r ranks.
 */
function factorsOf(module: LoraModule, target: LayerTarget, scale: number, kept: number, lora: string): Factor | string {
  const down = module.down.shape,
    up = module.up.shape;
  const rank = down[0];
  const out = up[0];
  const inner = down.slice(1).reduce((a, b) => a * b, 1);
  if (up.length < 2 || up[1] !== rank || up.slice(2).some((d) => d !== 1))
    return `up [${up.join(', ')}] does not fit down [${down.join(', ')}]`;
  const size = target.shape.reduce((a, b) => a * b, 1);
  if (out !== target.shape[0] || out * inner !== size)
    return `its change is [${out}, ${down.slice(1).join(', ')}], the weight is [${target.shape.join(', ')}]`;
  const downValues = module.down.read(),
    upValues = module.up.read();
  if (!allFinite(downValues) || !allFinite(upValues))
    throw new LoraFileError(`LoRA ${lora}: ${module.key} holds values that are not finite numbers (NaN or infinity); the file is damaged`);
  if (!target.transposed) {
    // Stored as torch has it: [out, in...] = (up * scale) [out, r] @ down [r, in...].
    const a = new Float32Array(out * kept);
    for (let o = 0; o < out; o++) for (let r = 0; r < kept; r++) a[o * kept + r] = upValues[o * rank + r] * scale;
    return { target, a, b: downValues.slice(0, kept * inner), rank: kept, rows: out, cols: inner };
  }
  // Stored transposed, [in, out] = down^T [in, r] @ (up * scale)^T [r, out].
  const a = new Float32Array(inner * kept),
    b = new Float32Array(kept * out);
  for (let r = 0; r < kept; r++) for (let i = 0; i < inner; i++) a[i * kept + r] = downValues[r * inner + i];
  for (let o = 0; o < out; o++) for (let r = 0; r < kept; r++) b[r * out + o] = upValues[o * rank + r] * scale;
  return { target, a, b, rank: kept, rows: inner, cols: out };
}

/** Low-rank factors A [rows, rank] and B [rank, cols] of one change. */
export type LowRankFactors = Pick<LowRankDelta, 'rows' | 'cols' | 'rank' | 'a' | 'b'>;

/** Several changes of one weight joined along the rank: [A1 | A2] @ [B1; B2] = A1 B1 + A2 B2. */
export function joinRanks(initializer: string, factors: LowRankFactors[]): LowRankDelta {
  const { rows, cols } = factors[0];
  const rank = factors.reduce((sum, f) => sum + f.rank, 0);
  if (factors.length === 1) return { initializer, rows, cols, rank, a: factors[0].a, b: factors[0].b };
  const a = new Float32Array(rows * rank),
    b = new Float32Array(rank * cols);
  let offset = 0;
  for (const f of factors) {
    for (let row = 0; row < rows; row++) a.set(f.a.subarray(row * f.rank, (row + 1) * f.rank), row * rank + offset);
    b.set(f.b, offset * cols);
    offset += f.rank;
  }
  return { initializer, rows, cols, rank, a, b };
}

/** The weight changes of a LoRA set, per component, and what each LoRA matched. */
export function mergeLoras(
  uses: LoraUse[],
  tables: ComponentTables,
): { deltas: Partial<Record<LoraComponent, LowRankDelta[]>>; reports: MergeReport[] } {
  const byWeight = new Map<string, { component: LoraComponent; factors: Factor[] }>();
  const reports: MergeReport[] = [];
  for (const use of uses) {
    const report: MergeReport = { name: use.name, matched: 0, unmatched: [], unsupported: [...use.contents.unsupported] };
    for (const module of use.contents.modules) {
      const found = find(tables, module);
      if (!found) {
        report.unmatched.push({
          key: module.key,
          why: tables[module.component ?? 'unet'] ? 'no such layer in this model' : `this model has no ${module.component}`,
        });
        continue;
      }
      const multiplier = found.component === 'unet' ? use.unet : use.te;
      if (multiplier === 0) {
        report.matched++;
        continue;
      }
      const rank = module.down.shape[0];
      const factor = factorsOf(module, found.target, (multiplier * (module.alpha ?? rank)) / rank, keptRanks(rank, use.dyn), use.name);
      if (typeof factor === 'string') {
        report.unmatched.push({ key: module.key, why: `shape: ${factor}` });
        continue;
      }
      report.matched++;
      if (factor.rank === 0) continue; // dyn=0: A1111's empty slice changes nothing
      // Keyed by component too: SDXL's two text encoders name their weights alike.
      const key = `${found.component}|${found.target.initializer}`;
      const entry = byWeight.get(key) ?? { component: found.component, factors: [] };
      entry.factors.push(factor);
      byWeight.set(key, entry);
    }
    reports.push(report);
  }
  const deltas: Partial<Record<LoraComponent, LowRankDelta[]>> = {};
  for (const { component, factors } of byWeight.values())
    (deltas[component] ??= []).push(joinRanks(factors[0].target.initializer, factors));
  return { deltas, reports };
}

/** One line per LoRA that did not apply whole: how many layers matched, and the first few that did not, with why. */
export function describeReport(
  report: MergeReport,
  total = report.matched + report.unmatched.length + report.unsupported.length,
): string | undefined {
  if (report.unmatched.length === 0 && report.unsupported.length === 0) return undefined;
  const list = [
    ...report.unmatched.map((u) => `${u.key} (${u.why})`),
    ...report.unsupported.map((u) => `${u.key} (${u.kind}, not supported)`),
  ];
  const shown = list.slice(0, 5).join(', ') + (list.length > 5 ? `, and ${list.length - 5} more` : '');
  return `LoRA ${report.name}: ${report.matched} of ${total} layers applied; not applied: ${shown}`;
}
