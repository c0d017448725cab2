// Pipeline schedules simulated against the bubble and memory table of deepseek-ai/DualPipe:
// 1F1B (PP−1)(F+B), activations PP; DualPipe (PP/2−1)(F&B+B−3W), parameters 2×, activations PP+1.
// ZB1P (PP−1)(F+B−2W), activations PP. The closed forms assume W ≤ F (all cases here); DualPipe's
// also an input backward as long as a forward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dualPipe,
  oneFOneB,
  scheduleSvg,
  simulate,
  tableActivations,
  tableBubble,
  type OpCosts,
  type Simulation,
} from '../../src/plan/index.ts';

const cases: [number, number, OpCosts][] = [
  [4, 8, { F: 1, B: 2, W: 1 }],
  [8, 20, { F: 3, B: 5, W: 2 }],
  [8, 16, { F: 1, B: 2, W: 1, FB: 2.5 }],
  [16, 32, { F: 1.3, B: 2.9, W: 1.1 }],
  [6, 12, { F: 2, B: 4, W: 1.5, FB: 5 }],
];
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

/** Every (direction, micro-batch, stage) forwarded once, input-backwarded once, weight-backwarded once, in dependency order. */
function checkComplete(sim: Simulation) {
  const seen = new Map<string, number>();
  const bump = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
  sim.devices.forEach((ops, d) => {
    for (const { op } of ops) {
      const st = (dir: 0 | 1) => (dir === 0 ? d : sim.pp - 1 - d);
      if (op.kind === 'F' || op.kind === 'FB') bump(`F${op.f.dir}:${op.f.mb}:${st(op.f.dir)}`);
      if (op.kind === 'B' || op.kind === 'BW' || op.kind === 'FB') bump(`B${op.b.dir}:${op.b.mb}:${st(op.b.dir)}`);
      if (op.kind === 'W' || op.kind === 'BW' || op.kind === 'FB') bump(`W${op.b.dir}:${op.b.mb}:${st(op.b.dir)}`);
    }
    for (let i = 1; i < ops.length; i++) assert.ok(ops[i]!.start >= ops[i - 1]!.end - 1e-12, 'a device runs one operation at a time');
  });
  const dirs = sim.schedule === 'dualpipe' ? 2 : 1;
  assert.equal(seen.size, 3 * sim.microBatches * sim.pp, 'every chunk once');
  for (const [k, n] of seen) assert.equal(n, 1, k);
  assert.equal(sim.microBatches % dirs, 0);
}

test('1F1B: bubble (PP−1)(F+B) on every device, activations PP on the first stage, parameters 1×', () => {
  for (const [pp, m, c] of cases) {
    const sim = simulate('1f1b', pp, m, c);
    checkComplete(sim);
    for (const b of sim.bubble) close(b, tableBubble('1f1b', pp, c), `pp ${pp}`);
    assert.equal(Math.max(...sim.peakActivations), tableActivations('1f1b', pp));
    assert.equal(sim.peakActivations[0], pp);
    assert.equal(sim.parameterCopies, 1);
  }
});

// DualPipe's closed form assumes an input backward as long as a forward (B − W = F) and W ≤ F;
// elsewhere the simulation and the formula part (docs/scale.md).
const dualCases: [number, number, OpCosts][] = [
  [4, 8, { F: 1, B: 2, W: 1 }],
  [8, 20, { F: 3, B: 5, W: 2 }],
  [8, 16, { F: 1, B: 2, W: 1, FB: 2.5 }],
  [16, 32, { F: 1.3, B: 2.5, W: 1.2, FB: 3.4 }],
  [10, 40, { F: 1, B: 1.5, W: 0.5 }],
  [6, 12, { F: 2, B: 3.5, W: 1.5, FB: 4.6 }],
  [12, 48, { F: 2, B: 4, W: 2, FB: 5 }],
];

test('DualPipe: bubble (PP/2−1)(F&B+B−3W), activations PP+1 on every device, parameters 2×', () => {
  for (const [pp, m, c] of dualCases) {
    const sim = simulate('dualpipe', pp, m, c);
    checkComplete(sim);
    close(Math.max(...sim.bubble), tableBubble('dualpipe', pp, c), `pp ${pp} m ${m}`);
    for (const a of sim.peakActivations) assert.equal(a, tableActivations('dualpipe', pp));
    assert.equal(sim.parameterCopies, 2);
    assert.ok(sim.makespan < simulate('1f1b', pp, m, c).makespan, 'DualPipe beats 1F1B');
  }
  assert.throws(() => dualPipe(5, 20), RangeError);
  assert.throws(() => dualPipe(4, 6), RangeError);
});

test('ZB1P (ZB-H1): bubble (PP−1)(F+B−2W) on every device, activations PP, parameters 1×', () => {
  for (const [pp, m, c] of cases) {
    const sim = simulate('zb1p', pp, m, c);
    checkComplete(sim);
    for (const b of sim.bubble) close(b, tableBubble('zb1p', pp, c), `pp ${pp}`);
    for (const a of sim.peakActivations) assert.equal(a, tableActivations('zb1p', pp));
    assert.equal(sim.parameterCopies, 1);
  }
});

test('communication time between stages lengthens the step and is waited for', () => {
  const c = { F: 1, B: 2, W: 1 };
  for (const s of ['1f1b', 'zb1p', 'dualpipe'] as const) {
    const a = simulate(s, 8, 16, c);
    const b = simulate(s, 8, 16, { ...c, comm: 0.25 });
    assert.ok(b.makespan > a.makespan, s);
  }
  // 1F1B's fixed order is what the simulation runs.
  const order = oneFOneB(4, 8);
  assert.deepEqual(
    simulate('1f1b', 4, 8, c).devices.map((ops) => ops.map((t) => t.op)),
    order,
  );
});

test('the SVG timeline draws one box per operation, with the bubble in its caption', () => {
  const sim = simulate('dualpipe', 8, 20, { F: 1, B: 2, W: 1, FB: 2.5 });
  const svg = scheduleSvg(sim, 'DualPipe 8 × 20');
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  const boxes = (svg.match(/<rect /g) ?? []).length;
  const ops = sim.devices.reduce((a, d) => a + d.length, 0);
  const used = new Set(sim.devices.flat().map((t) => t.op.kind)).size;
  assert.equal(boxes, 1 + sim.pp + ops + used); // background, one track per device, the boxes, the legend
  const caption = `bubble ${Math.round(Math.max(...sim.bubble) * 100) / 100} `;
  assert.ok(svg.includes(caption), caption);
  assert.ok(svg.includes('overlapped forward &amp; backward'));
});
