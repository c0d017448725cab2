// The metrics plot: panels for loss (total, CE, each MTP depth, eval), learning rate, gradient norm
// and per-layer expert load, drawn as polylines in the right direction, with ticks and a legend;
// long runs downsampled; re-logged steps counted once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricsRecord, StepMetrics } from '../../src/train/metrics.ts';
import { downsample, metricsPanels, plotMetrics } from '../../src/train/plot/metrics-plot.ts';
import { niceTicks, renderSvg, SVG_MARKER } from '../../src/train/plot/svg.ts';

function steps(n: number): MetricsRecord[] {
  const out: MetricsRecord[] = [];
  for (let s = 1; s <= n; s++) {
    const m: StepMetrics = {
      type: 'train',
      step: s,
      loss: 8 / s + 1,
      ce: 6 / s + 1,
      mtp: [6.5 / s + 1, 7 / s + 1],
      balance: 1e-4,
      lr: 1e-3 * Math.min(1, s / 5),
      gradNorm: 1 + 1 / s,
      tokens: s * 64,
      tokensPerSec: 1000,
      elapsed: s,
      ms: { data: 1, compute: 10, optimizer: 1 },
      load: [
        { layer: 1, max: 40, mean: 32, maxOverMean: 1.25 },
        { layer: 3, max: 48, mean: 32, maxOverMean: 1.5 },
      ],
    };
    out.push(m);
    if (s % 10 === 0) out.push({ type: 'eval', step: s, loss: 6 / s + 1.1, ppl: Math.exp(6 / s + 1.1), tokens: 128 });
  }
  return out;
}

/** The points of the polyline following the legend label's colour, as [x, y] pairs. */
function polylines(svg: string): [number, number][][] {
  return [...svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((m) =>
    m[1]!.split(' ').map((p) => p.split(',').map(Number) as [number, number]),
  );
}

test('panels and series from a metrics log', () => {
  const panels = metricsPanels(steps(40));
  assert.deepEqual(
    panels.map((p) => p.title.split(':')[0]),
    ['Loss', 'Learning rate', 'Gradient norm (before clipping)', 'Expert load'],
  );
  assert.deepEqual(
    panels[0]!.series.map((s) => s.label),
    ['loss (total)', 'cross-entropy', 'MTP depth 1', 'MTP depth 2', 'eval loss'],
  );
  assert.deepEqual(
    panels[0]!.series[4]!.points,
    [10, 20, 30, 40].map((s) => [s, 6 / s + 1.1]),
  );
  assert.deepEqual(
    panels[3]!.series.map((s) => s.label),
    ['layer 1', 'layer 3'],
  );
  assert.deepEqual(panels[3]!.series[1]!.points[0], [1, 1.5]);
  // A resumed run that re-logged steps 5..6: counted once, the later record wins.
  const relogged = [...steps(6), { ...(steps(5)[4] as StepMetrics), loss: 99 }];
  const total = metricsPanels(relogged)[0]!.series[0]!.points;
  assert.equal(total.length, 6);
  assert.deepEqual(total[4], [5, 99]);
});

test('the SVG: one polyline per series, falling loss drawn downward, eval markers, ticks, legend', () => {
  const svg = plotMetrics(steps(40), 'run <a>');
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.includes(SVG_MARKER));
  assert.ok(svg.includes('run &lt;a&gt;'), 'text is escaped');
  const lines = polylines(svg);
  assert.equal(lines.length, 5 + 1 + 1 + 2, 'loss ×5, lr, grad norm, two layers');
  const total = lines[0]!;
  assert.equal(total.length, 40);
  assert.ok(total[0]![1] < total[39]![1], 'a falling loss goes down the panel (SVG y grows downward)');
  assert.ok(
    total.every((p, i) => i === 0 || p[0] > total[i - 1]![0]),
    'x increases with the step',
  );
  assert.equal((svg.match(/<circle /g) ?? []).length, 4 + 1, 'four eval points and the legend marker');
  for (const label of ['loss (total)', 'MTP depth 2', 'eval loss', 'layer 3', 'lr', 'max / mean load'])
    assert.ok(svg.includes(`>${label}<`), label);
  assert.ok(/>40<\/text>/.test(svg), 'step ticks');
});

test('helpers: nice ticks, downsampling, NaN breaks a line', () => {
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0.13, 0.61, 5), [0.2, 0.3, 0.4, 0.5, 0.6]);
  const pts = Array.from({ length: 10000 }, (_, i) => [i, i % 2] as const);
  const d = downsample(pts, 100);
  assert.equal(d.length, 100);
  assert.ok(
    d.every((p) => Math.abs(p[1] - 0.5) < 1e-9),
    'bucket means',
  );
  const svg = renderSvg([
    {
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          label: 's',
          color: '#000',
          points: [
            [0, 1],
            [1, 2],
            [2, NaN],
            [3, 1],
            [4, 2],
          ],
        },
      ],
    },
  ]);
  assert.equal(polylines(svg).length, 2);
});
