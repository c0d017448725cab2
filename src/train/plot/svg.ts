/**
 * A minimal line-chart renderer writing SVG by hand: stacked panels, each with axes, "nice" ticks,
 * grid lines, labelled polylines (optionally with point markers) and a legend. No plotting library:
 * the output is a plain text file any browser shows.
 */

export interface Series {
  label: string;
  /** (x, y) points in x order; non-finite y values break the line. */
  points: readonly (readonly [number, number])[];
  color: string;
  /** Draw a marker at every point (sparse series such as evaluations). */
  markers?: boolean;
  dashed?: boolean;
  width?: number;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Logarithmic y axis (positive values only). */
  logY?: boolean;
  /** Force the y range to include this value (e.g. 1 for a max/mean ratio). */
  includeY?: number;
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

/** A marker comment that identifies a file as written by this renderer (so re-plotting may replace it). */
export const SVG_MARKER = '<!-- dsts plot -->';

const W = 820;
const H = 260;
const M = { left: 72, right: 170, top: 34, bottom: 44 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round numbers for labels: 1234.5 → "1235", 0.000123 → "1.23e-4". */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  if (a >= 100) return v.toFixed(0);
  return String(Number(v.toPrecision(3)));
}

/** About `count` evenly spaced round values covering [lo, hi] (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  // Multiples k·step computed afresh (not summed) and rounded, so labels read 0.3, not 0.30000000000000004.
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(k === 0 ? 0 : Number((k * step).toPrecision(12)));
  return out;
}

function range(values: number[], include?: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (include !== undefined) {
    lo = Math.min(lo, include);
    hi = Math.max(hi, include);
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - (Math.abs(lo) || 1) * 0.1, hi + (Math.abs(hi) || 1) * 0.1];
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

function renderPanel(p: Panel, y0: number): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const xs = p.series.flatMap((s) => s.points.map((q) => q[0]));
  const tf = p.logY ? (v: number) => (v > 0 ? Math.log10(v) : NaN) : (v: number) => v;
  const ys = p.series.flatMap((s) => s.points.map((q) => tf(q[1])));
  const [xlo, xhi] = range(xs);
  const [ylo, yhi] = range(ys, p.includeY === undefined ? undefined : tf(p.includeY));
  const X = (v: number) => M.left + ((v - xlo) / (xhi - xlo)) * pw;
  const Y = (v: number) => y0 + M.top + ph - ((v - ylo) / (yhi - ylo)) * ph;
  const out: string[] = [];
  out.push(`<g class="panel">`);
  out.push(`<text x="${M.left}" y="${y0 + 20}" font-size="15" font-weight="bold">${esc(p.title)}</text>`);
  out.push(`<rect x="${M.left}" y="${y0 + M.top}" width="${pw}" height="${ph}" fill="#fff" stroke="#444"/>`);
  // Grid and ticks.
  for (const t of niceTicks(xlo, xhi, 8)) {
    const x = X(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${y0 + M.top}" x2="${x}" y2="${y0 + M.top + ph}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${x}" y="${y0 + M.top + ph + 16}" font-size="11" text-anchor="middle">${formatTick(t)}</text>`);
  }
  const yTicks = p.logY
    ? niceTicks(Math.floor(ylo), Math.ceil(yhi), Math.max(1, Math.ceil(yhi) - Math.floor(ylo))).filter((t) => t >= ylo && t <= yhi)
    : niceTicks(ylo, yhi, 5);
  for (const t of yTicks) {
    const y = Y(t).toFixed(1);
    out.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#e4e4e4"/>`);
    out.push(
      `<text x="${M.left - 6}" y="${y}" font-size="11" text-anchor="end" dominant-baseline="middle">${formatTick(p.logY ? 10 ** t : t)}</text>`,
    );
  }
  out.push(`<text x="${M.left + pw / 2}" y="${y0 + H - 8}" font-size="12" text-anchor="middle">${esc(p.xLabel)}</text>`);
  const cy = y0 + M.top + ph / 2;
  out.push(`<text x="16" y="${cy}" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${cy})">${esc(p.yLabel)}</text>`);
  // Lines, clipped to the plot area.
  out.push(`<clipPath id="clip${y0}"><rect x="${M.left}" y="${y0 + M.top}" width="${pw}" height="${ph}"/></clipPath>`);
  out.push(`<g clip-path="url(#clip${y0})">`);
  for (const s of p.series) {
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) {
        out.push(
          `<polyline fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.6}"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${run.join(' ')}"/>`,
        );
      }
      run = [];
    };
    for (const [x, yv] of s.points) {
      const y = tf(yv);
      if (!Number.isFinite(y)) {
        flush();
        continue;
      }
      run.push(`${X(x).toFixed(1)},${Y(y).toFixed(1)}`);
      if (s.markers) out.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
    flush();
  }
  out.push('</g>');
  // Legend to the right of the plot.
  p.series.forEach((s, i) => {
    const ly = y0 + M.top + 10 + i * 18;
    const lx = M.left + pw + 14;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    if (s.markers) out.push(`<circle cx="${lx + 11}" cy="${ly}" r="3" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 28}" y="${ly}" font-size="12" dominant-baseline="middle">${esc(s.label)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

/** Renders the panels stacked vertically under an optional title. */
export function renderSvg(panels: readonly Panel[], title?: string): string {
  const top = title ? 36 : 8;
  const height = top + panels.length * H + 8;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    SVG_MARKER,
    `<rect width="100%" height="100%" fill="#fafafa"/>`,
  ];
  if (title) parts.push(`<text x="${W / 2}" y="24" font-size="17" text-anchor="middle" font-weight="bold">${esc(title)}</text>`);
  panels.forEach((p, i) => parts.push(renderPanel(p, top + i * H)));
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
