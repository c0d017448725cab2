// Draws docs/schedule-{1f1b,zb1p,dualpipe}.svg: 8 pipeline ranks, 20 micro-batches, as in Figure 5
// of the DeepSeek-V3 report, with F = 1, full backward B = 2, its weight part W = 1 and an
// overlapped forward & backward of 2.5 (the overlap hides communication, not compute).
// Usage: node --import tsx scripts/schedule-figures.ts [out dir, default docs]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scheduleSvg, simulate, SCHEDULES } from '../src/plan/index.ts';

const dir = process.argv[2] ?? 'docs';
const costs = { F: 1, B: 2, W: 1, FB: 2.5 };
for (const s of SCHEDULES) {
  const sim = simulate(s, 8, 20, costs);
  const name = { '1f1b': '1F1B', zb1p: 'ZB1P (ZB-H1)', dualpipe: 'DualPipe' }[s];
  writeFileSync(join(dir, `schedule-${s}.svg`), scheduleSvg(sim, `${name}: 8 ranks, 20 micro-batches; F = 1, B = 2, W = 1, F&B = 2.5`));
  console.log(s, 'step', sim.makespan, 'bubble', Math.max(...sim.bubble), 'activations', Math.max(...sim.peakActivations));
}
