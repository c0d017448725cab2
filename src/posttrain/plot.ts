/**
 * A GRPO run's metrics as pictures (`dsts plot` on its folder): reward (the total, each function,
 * accuracy), completion length (mean, min, max), KL to the reference, clip fractions, entropy,
 * throughput of rollouts and of training, and the loss — the curves an R1-Zero run is read by.
 */
import { downsample } from '../train/plot/metrics-plot.ts';
import { PALETTE, renderSvg, type Panel, type Series } from '../train/plot/svg.ts';
import type { GrpoMetrics } from './grpo/metrics.ts';

/** The GRPO records of a metrics log (a resumed run may have re-logged steps: the last one wins). */
export function grpoRecords(records: readonly { type: string; step: number }[]): GrpoMetrics[] {
  const byStep = new Map<number, GrpoMetrics>();
  for (const r of records) if (r.type === 'grpo') byStep.set(r.step, r as GrpoMetrics);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

function line(label: string, i: number, pts: [number, number][], extra: Partial<Series> = {}): Series {
  return { label, color: PALETTE[i % PALETTE.length]!, points: downsample(pts), ...extra };
}

export function grpoPanels(ms: readonly GrpoMetrics[]): Panel[] {
  const at = (f: (m: GrpoMetrics) => number | undefined): [number, number][] => ms.map((m) => [m.step, f(m) ?? NaN]);
  const names = [...new Set(ms.flatMap((m) => Object.keys(m.rewards ?? {})))];
  const reward: Series[] = [
    line(
      'reward (weighted total)',
      0,
      at((m) => m.reward),
      { width: 2 },
    ),
  ];
  names.forEach((n, i) =>
    reward.push(
      line(
        n,
        i + 1,
        at((m) => m.rewards?.[n]?.mean),
        { width: 1.2, dashed: true },
      ),
    ),
  );
  return [
    { title: 'Reward (mean over completions)', xLabel: 'step', yLabel: 'reward', series: reward },
    {
      title: 'Completion length (tokens)',
      xLabel: 'step',
      yLabel: 'tokens',
      series: [
        line(
          'mean',
          0,
          at((m) => m.completionLength.mean),
          { width: 2 },
        ),
        line(
          'min',
          2,
          at((m) => m.completionLength.min),
          { dashed: true },
        ),
        line(
          'max',
          1,
          at((m) => m.completionLength.max),
          { dashed: true },
        ),
      ],
    },
    {
      title: 'KL to the reference (k3, mean per token)',
      xLabel: 'step',
      yLabel: 'nats',
      series: [
        line(
          'kl',
          4,
          at((m) => m.kl),
        ),
      ],
    },
    {
      title: 'Clip fraction (share of completion tokens)',
      xLabel: 'step',
      yLabel: 'fraction',
      series: [
        line(
          'low (Â < 0)',
          1,
          at((m) => m.clip.low),
        ),
        line(
          'high (Â > 0)',
          2,
          at((m) => m.clip.high),
        ),
        line(
          'region',
          0,
          at((m) => m.clip.region),
          { width: 2 },
        ),
      ],
    },
    {
      title: 'Entropy of the policy (nats per token)',
      xLabel: 'step',
      yLabel: 'nats',
      series: [
        line(
          'entropy',
          5,
          at((m) => m.entropy),
        ),
      ],
    },
    {
      title: 'Tokens/s',
      xLabel: 'step',
      yLabel: 'tokens/s',
      series: [
        line(
          'rollout',
          3,
          at((m) => m.rolloutTokensPerSec),
        ),
        line(
          'training',
          0,
          at((m) => m.trainTokensPerSec),
        ),
      ],
    },
    {
      title: 'GRPO loss',
      xLabel: 'step',
      yLabel: 'loss',
      series: [
        line(
          'loss',
          6,
          at((m) => m.loss),
        ),
      ],
    },
  ];
}

export function plotGrpo(ms: readonly GrpoMetrics[], title?: string): string {
  return renderSvg(grpoPanels(ms), title);
}
