/**
 * A simulated schedule as an SVG timeline, drawn like Figure 5 of the DeepSeek-V3 report: one row
 * per device, time to the right, each operation a box labelled with its micro-batch; forward,
 * backward (input), backward (weights), full backward and overlapped forward & backward in their
 * own colours, the second direction's chunks in a darker shade of the same colour.
 */
import type { Op } from './ops.ts';
import type { Simulation } from './simulate.ts';

const COLOURS: Record<Op['kind'], [string, string]> = {
  F: ['#f6c85f', '#d9a521'],
  B: ['#6fb1e7', '#2f7dc0'],
  W: ['#9fd89f', '#4fa84f'],
  BW: ['#b39ddb', '#7e57c2'],
  FB: ['#f4a582', '#d6604d'],
};
const LABEL: Record<Op['kind'], string> = {
  F: 'forward',
  B: 'backward (input)',
  W: 'backward (weights)',
  BW: 'full backward',
  FB: 'overlapped forward & backward',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function label(op: Op): string {
  const n = (c: { dir: 0 | 1; mb: number }) => `${c.mb}${c.dir === 1 ? '′' : ''}`;
  return op.kind === 'FB' ? `${n(op.f)}|${n(op.b)}` : op.kind === 'F' ? n(op.f) : n(op.b);
}

function dirOf(op: Op): 0 | 1 {
  return op.kind === 'F' ? op.f.dir : op.kind === 'FB' ? op.f.dir : op.b.dir;
}

/** The SVG document of a simulation; `width` is the drawing's width in pixels, `unit` the time unit's label (' s'). */
export function scheduleSvg(sim: Simulation, title: string, width = 960, unit = ''): string {
  const left = 70;
  const rowH = 22;
  const top = 36;
  const scale = (width - left - 10) / sim.makespan;
  const used = new Set(sim.devices.flat().map((t) => t.op.kind));
  const legendY = top + sim.pp * rowH + 16;
  const height = legendY + 24;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="16" font-size="13">${esc(title)}</text>`,
    `<text x="${left}" y="30" fill="#555">${esc(
      `bubble ${round(Math.max(...sim.bubble))}${unit} (max over devices), step ${round(sim.makespan)}${unit}, peak activations ${Math.max(...sim.peakActivations)} chunks, parameters ${sim.parameterCopies}×`,
    )}</text>`,
  ];
  sim.devices.forEach((ops, d) => {
    const y = top + d * rowH;
    out.push(`<text x="${left - 6}" y="${y + rowH / 2 + 3}" text-anchor="end">device ${d}</text>`);
    out.push(`<rect x="${left}" y="${y}" width="${(sim.makespan * scale).toFixed(1)}" height="${rowH - 2}" fill="#f3f3f3"/>`);
    for (const t of ops) {
      const x = left + t.start * scale;
      const w = Math.max((t.end - t.start) * scale, 0.5);
      const fill = COLOURS[t.op.kind][dirOf(t.op)];
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowH - 2}" fill="${fill}" stroke="white" stroke-width="0.6"/>`,
      );
      if (w > 14) out.push(`<text x="${(x + w / 2).toFixed(1)}" y="${y + rowH / 2 + 3}" text-anchor="middle">${label(t.op)}</text>`);
    }
  });
  let x = left;
  for (const k of ['F', 'B', 'W', 'BW', 'FB'] as const) {
    if (!used.has(k)) continue;
    out.push(`<rect x="${x}" y="${legendY}" width="12" height="12" fill="${COLOURS[k][0]}"/>`);
    out.push(`<text x="${x + 16}" y="${legendY + 10}">${esc(LABEL[k])}</text>`);
    x += 24 + LABEL[k].length * 5.6;
  }
  if (sim.schedule === 'dualpipe') out.push(`<text x="${x}" y="${legendY + 10}" fill="#555">darker, n′: the reverse direction</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

const round = (v: number) => Math.round(v * 100) / 100;
