/**
 * A plan as text: a terminal table, a Markdown report, or JSON (the same numbers, unrounded, the
 * simulation's per-operation timeline left out: `dsts plan --svg` draws it).
 */
import type { Plan } from './plan.ts';

const si = (v: number, unit = '') => {
  const a = Math.abs(v);
  const [d, s] =
    a >= 1e24
      ? [1e24, 'Y']
      : a >= 1e21
        ? [1e21, 'Z']
        : a >= 1e18
          ? [1e18, 'E']
          : a >= 1e15
            ? [1e15, 'P']
            : a >= 1e12
              ? [1e12, 'T']
              : a >= 1e9
                ? [1e9, 'G']
                : a >= 1e6
                  ? [1e6, 'M']
                  : a >= 1e3
                    ? [1e3, 'k']
                    : [1, ''];
  return `${(v / d).toPrecision(4)} ${s}${unit}`.trim();
};
const gb = (b: number) => (b >= 1e8 ? `${(b / 1e9).toFixed(1)} GB` : si(b, 'B'));
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const ms = (s: number) =>
  s >= 10 ? `${s.toFixed(2)} s` : s >= 1e-3 || s === 0 ? `${(s * 1e3).toFixed(2)} ms` : `${(s * 1e6).toFixed(2)} µs`;
const usd = (v: number) =>
  `$${v >= 1e6 ? `${(v / 1e6).toFixed(3)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)}K` : v >= 1 ? v.toFixed(2) : v.toPrecision(3)}`;

/** Sections of label/value rows, shared by the table and the Markdown report. */
function sections(p: Plan): [string, [string, string][]][] {
  const f = p.flopsPerToken;
  const l = p.layout;
  const m = p.memory.peak;
  const sim = p.pipeline.simulation;
  const out: [string, [string, string][]][] = [
    [
      'model',
      [
        ['config', p.model.source],
        ['parameters (total)', `${p.params.total.toLocaleString('en-US')} (${si(p.params.total)})`],
        ['activated per token', `${p.params.activated.toLocaleString('en-US')} (${si(p.params.activated)})`],
        ['MTP modules', `${p.params.mtp.toLocaleString('en-US')} (${si(p.params.mtp)})`],
      ],
    ],
    [
      `training FLOPs per token (context ${l.seqLen}, causal attention)`,
      [
        ['layers (matmuls)', si(f.layers, 'FLOP')],
        ['attention (quadratic)', si(f.attention, 'FLOP')],
        ['output head', si(f.head, 'FLOP')],
        ['MTP', si(f.mtp, 'FLOP')],
        ['total', si(f.total, 'FLOP')],
        ['6·N (activated, no embedding)', si(f.sixN, 'FLOP')],
      ],
    ],
    [
      `cost (${p.gpu.name}, ${l.compute} peak ${si(p.peak, 'FLOP/s')})`,
      [
        ['tokens', p.tokensNote === null ? si(p.tokens) : `${si(p.tokens)} (${p.tokensNote})`],
        ['training compute', si(p.trainingFlops, 'FLOP')],
        [`MFU (${p.mfu.how})`, pct(p.mfu.value)],
        ...(p.impliedMfu === null ? [] : ([['MFU implied by the reported GPU-hours', pct(p.impliedMfu)]] as [string, string][])),
        ['GPU-hours', si(p.gpuHours)],
        [`cost at $${p.price}/GPU-hour`, usd(p.cost)],
        [
          `wall clock on ${p.world} GPU${p.world === 1 ? '' : 's'}`,
          p.wallDays >= 1 ? `${p.wallDays.toFixed(1)} days` : ms(p.wallDays * 86400),
        ],
      ],
    ],
    [
      `memory per GPU (pp ${l.pp}, tp ${l.tp}, dp ${l.dp}, ep ${l.ep}, ZeRO-${l.zero}; ${l.recompute} recompute, ${l.compute}, ${l.moments} moments)`,
      [
        [`heaviest device`, `${m.device} (stages ${m.stages.join(', ')})`],
        ['parameters on it', si(m.params)],
        ['weights (bf16)', gb(m.weights)],
        ['gradients (fp32)', gb(m.grads)],
        ['optimizer (master + moments)', gb(m.optimizer)],
        [`activations (${Math.max(...sim.peakActivations)} micro-batch chunks live)`, gb(m.activations)],
        [l.compute === 'fp8' ? 'saved by caching activations in FP8' : 'FP8 activations would save', gb(p.memory.fp8Saving)],
        ['logits (last stage)', gb(m.logits)],
        ['total', `${gb(m.total)} of ${gb(p.gpu.memory)}${p.memory.fits ? '' : '  (does not fit)'}`],
      ],
    ],
  ];
  const e = p.expertParallel;
  if (e !== null)
    out.push([
      `expert-parallel all-to-all (one MoE layer, one micro-batch of ${e.tokens} tokens per GPU)`,
      [
        ['forward: NVLink / network bytes', `${gb(e.nvlinkForward)} / ${gb(e.networkForward)} (dispatch fp8, combine bf16)`],
        ['backward: NVLink / network bytes', `${gb(e.nvlinkBackward)} / ${gb(e.networkBackward)} (bf16)`],
        ['network destinations per token', e.nodesPerToken.toFixed(2)],
        [
          'forward: communication vs compute',
          `${ms(e.commForward)} vs ${ms(e.computeForward)} (ratio ${(e.commForward / e.computeForward).toFixed(2)})`,
        ],
        [
          'backward: communication vs compute',
          `${ms(e.commBackward)} vs ${ms(e.computeBackward)} (ratio ${(e.commBackward / e.computeBackward).toFixed(2)})`,
        ],
        [
          'per step (heaviest stage)',
          `${gb(e.perStep.networkBytes)} over the network, ${ms(e.perStep.commSeconds)} comm vs ${ms(e.perStep.computeSeconds)} compute`,
        ],
      ],
    ]);
  const c = p.pipeline.costs;
  out.push([
    `pipeline: ${l.schedule}, ${l.pp} stages × ${p.microBatches} micro-batches`,
    [
      [
        'F / B / W per chunk (with exposed EP comm)',
        `${ms(c.F)} / ${ms(c.B)} / ${ms(c.W)}${c.FB === undefined ? '' : `; F&B ${ms(c.FB)}`}`,
      ],
      ['step (simulated)', ms(sim.makespan)],
      ['bubble (simulated, worst device)', ms(Math.max(...sim.bubble))],
      ["bubble (DualPipe repository's formula)", ms(p.pipeline.tableBubble)],
      ['busy share of the step', pct(p.pipeline.busy)],
      ['data-parallel gradient all-reduce', `${gb(p.dataParallel.bytes)} per GPU, ${ms(p.dataParallel.seconds)}`],
    ],
  ]);
  return out;
}

export function planTable(p: Plan): string {
  const lines: string[] = [];
  for (const [title, rows] of sections(p)) {
    lines.push(title);
    const w = Math.max(...rows.map((r) => r[0].length));
    for (const [k, v] of rows) lines.push(`  ${k.padEnd(w)}  ${v}`);
    lines.push('');
  }
  return lines.join('\n');
}

export function planMarkdown(p: Plan, svgFile?: string): string {
  const lines = [`# Training plan: ${p.model.source}`, ''];
  for (const [title, rows] of sections(p)) {
    lines.push(`## ${title}`, '', '| | |', '| --- | --- |');
    for (const [k, v] of rows) lines.push(`| ${k} | ${v.replace(/\|/g, '\\|')} |`);
    lines.push('');
  }
  if (svgFile !== undefined) lines.push(`![${p.layout.schedule} schedule](${svgFile})`, '');
  lines.push('Numbers from `dsts plan`; the model behind them is in docs/scale.md.', '');
  return lines.join('\n');
}

export function planJson(p: Plan): object {
  const { simulation, ...pipeline } = p.pipeline;
  const { devices: _ops, ...sim } = simulation;
  return { ...p, pipeline: { ...pipeline, simulation: sim } };
}
