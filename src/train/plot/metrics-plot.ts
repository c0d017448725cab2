/**
 * A run's metrics as a picture: training loss (total, cross-entropy, each MTP depth) with the
 * held-out loss, the learning rate, the gradient norm, and each MoE layer's expert load
 * (busiest expert / mean) — the panels `dsts plot` draws.
 */
import type { EvalMetrics, MetricsRecord, StepMetrics } from '../metrics.ts';
import { PALETTE, renderSvg, type Panel, type Series } from './svg.ts';

/** Points of a long run averaged into about `target` buckets, so the SVG stays small. */
export function downsample(points: readonly (readonly [number, number])[], target = 1000): [number, number][] {
  if (points.length <= target * 1.5) return points.map((p) => [p[0], p[1]]);
  const size = points.length / target;
  const out: [number, number][] = [];
  for (let b = 0; b < target; b++) {
    const chunk = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    if (chunk.length === 0) continue;
    const finite = chunk.filter((p) => Number.isFinite(p[1]));
    const y = finite.length ? finite.reduce((a, p) => a + p[1], 0) / finite.length : NaN;
    out.push([chunk[chunk.length - 1]![0], y]);
  }
  return out;
}

function series(label: string, color: string, pts: [number, number][], extra: Partial<Series> = {}): Series {
  return { label, color, points: downsample(pts), ...extra };
}

/** The panels for a metrics log (records from metrics.jsonl). */
export function metricsPanels(records: readonly MetricsRecord[]): Panel[] {
  // A resumed run may have re-logged steps: the last record of a step wins.
  const trainByStep = new Map<number, StepMetrics>();
  const evalByStep = new Map<number, EvalMetrics>();
  for (const r of records) {
    if (r.type === 'train') trainByStep.set(r.step, r);
    else if (r.type === 'eval') evalByStep.set(r.step, r);
  }
  const train = [...trainByStep.values()].sort((a, b) => a.step - b.step);
  const evals = [...evalByStep.values()].sort((a, b) => a.step - b.step);

  const loss: Series[] = [
    series(
      'loss (total)',
      PALETTE[0]!,
      train.map((m) => [m.step, m.loss]),
    ),
  ];
  loss.push(
    series(
      'cross-entropy',
      PALETTE[2]!,
      train.map((m) => [m.step, m.ce]),
      { width: 1.2 },
    ),
  );
  const depths = Math.max(0, ...train.map((m) => m.mtp?.length ?? 0));
  for (let k = 0; k < depths; k++) {
    loss.push(
      series(
        `MTP depth ${k + 1}`,
        PALETTE[(4 + k) % PALETTE.length]!,
        train.map((m) => [m.step, m.mtp?.[k] ?? NaN]),
        { dashed: true, width: 1.2 },
      ),
    );
  }
  if (evals.length > 0)
    loss.push(
      series(
        'eval loss',
        PALETTE[1]!,
        evals.map((e) => [e.step, e.loss]),
        { markers: true, width: 2 },
      ),
    );

  const panels: Panel[] = [
    { title: 'Loss', xLabel: 'step', yLabel: 'loss (nats/token)', series: loss },
    {
      title: 'Learning rate',
      xLabel: 'step',
      yLabel: 'lr',
      series: [
        series(
          'lr',
          PALETTE[3]!,
          train.map((m) => [m.step, m.lr]),
        ),
      ],
    },
    {
      title: 'Gradient norm (before clipping)',
      xLabel: 'step',
      yLabel: '‖g‖',
      series: [
        series(
          'grad norm',
          PALETTE[4]!,
          train.map((m) => [m.step, m.gradNorm]),
        ),
      ],
    },
  ];
  const layers = [...new Set(train.flatMap((m) => (m.load ?? []).map((l) => l.layer)))].sort((a, b) => a - b);
  if (layers.length > 0) {
    panels.push({
      title: 'Expert load: busiest expert / mean, per MoE layer (1 = balanced)',
      xLabel: 'step',
      yLabel: 'max / mean load',
      includeY: 1,
      series: layers.map((layer, i) =>
        series(
          `layer ${layer}`,
          PALETTE[i % PALETTE.length]!,
          train.map((m) => [m.step, m.load?.find((l) => l.layer === layer)?.maxOverMean ?? NaN]),
          { width: 1.2 },
        ),
      ),
    });
  }
  return panels;
}

/** The whole SVG for a metrics log. */
export function plotMetrics(records: readonly MetricsRecord[], title?: string): string {
  return renderSvg(metricsPanels(records), title);
}
