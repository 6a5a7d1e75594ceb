// Small SVG charts for docs/benchmarks.md, written by hand: grouped bars and line panels. No dependencies.

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#7f7f7f'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (x: number) => (Math.round(x * 10) / 10).toString();
/** An axis label: at most two decimals, no trailing zeros. */
const tick = (x: number) => (x >= 1000 ? x.toLocaleString('en-US') : String(Number(x.toFixed(2))));

function text(x: number, y: number, s: string, opts: { anchor?: string; size?: number; rotate?: number; weight?: string } = {}): string {
  const rot = opts.rotate ? ` transform="rotate(${opts.rotate} ${num(x)} ${num(y)})"` : '';
  return `<text x="${num(x)}" y="${num(y)}" font-size="${opts.size ?? 11}" text-anchor="${opts.anchor ?? 'start'}"${opts.weight ? ` font-weight="${opts.weight}"` : ''}${rot}>${esc(s)}</text>`;
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function legend(x: number, y: number, names: readonly string[], dashed: readonly boolean[] = []): string {
  return names
    .map((n, i) => {
      const yy = y + i * 15;
      const dash = dashed[i] ? ' stroke-dasharray="5,3"' : '';
      return `<line x1="${x}" y1="${yy - 4}" x2="${x + 18}" y2="${yy - 4}" stroke="${COLORS[i % COLORS.length]}" stroke-width="3"${dash}/>${text(x + 23, yy, n)}`;
    })
    .join('');
}

/** Groups of bars (one bar per series in each group), with values printed above. */
export function barChart(opts: { title: string; yLabel: string; groups: readonly string[]; series: readonly { name: string; values: readonly number[] }[]; log?: boolean; width?: number }): string {
  const W = opts.width ?? 760;
  const H = 360;
  const m = { l: 64, r: 170, t: 34, b: 46 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const all = opts.series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
  const max = niceMax(Math.max(...all, 0));
  const lo = opts.log ? 10 ** Math.floor(Math.log10(Math.max(1e-9, Math.min(...all.filter((v) => v > 0))))) : 0;
  const hi = opts.log ? 10 ** Math.ceil(Math.log10(max)) : max;
  const y = (v: number) => (opts.log ? m.t + ph - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph : m.t + ph - (v / hi) * ph);
  const gw = pw / opts.groups.length;
  const bw = (gw * 0.8) / opts.series.length;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  out.push(text(W / 2 - m.r / 2, 20, opts.title, { anchor: 'middle', size: 14, weight: 'bold' }));
  const ticks = opts.log ? Array.from({ length: Math.round(Math.log10(hi / lo)) + 1 }, (_, i) => lo * 10 ** i) : [0, 0.25, 0.5, 0.75, 1].map((f) => f * hi);
  for (const t of ticks) out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${num(y(t))}" y2="${num(y(t))}" stroke="#ddd"/>`, text(m.l - 6, y(t) + 4, tick(t), { anchor: 'end' }));
  out.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}" stroke="#333"/>`, `<line x1="${m.l}" x2="${m.l + pw}" y1="${m.t + ph}" y2="${m.t + ph}" stroke="#333"/>`);
  out.push(text(16, m.t + ph / 2, opts.yLabel, { anchor: 'middle', rotate: -90 }));
  opts.groups.forEach((g, gi) => {
    const gx = m.l + gi * gw + gw * 0.1;
    out.push(text(m.l + gi * gw + gw / 2, m.t + ph + 18, g, { anchor: 'middle' }));
    opts.series.forEach((s, si) => {
      const v = s.values[gi] ?? 0;
      const top = y(v);
      out.push(`<rect x="${num(gx + si * bw)}" y="${num(top)}" width="${num(bw - 1)}" height="${num(m.t + ph - top)}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${s.name}, ${g}: ${v}`)}</title></rect>`);
      if (opts.groups.length * opts.series.length <= 28) out.push(text(gx + si * bw + bw / 2, top - 3, v >= 100 ? Math.round(v).toLocaleString('en-US') : num(v), { anchor: 'middle', size: 8 }));
    });
  });
  out.push(legend(m.l + pw + 16, m.t + 12, opts.series.map((s) => s.name)));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export interface Panel {
  title: string;
  /** x positions; with logX, 0 is drawn at the left edge as "0". */
  lines: readonly { name: string; points: readonly [number, number][]; dashed?: boolean }[];
}

/** Panels of lines side by side and in rows, sharing axes' ranges. */
export function linePanels(opts: { title: string; xLabel: string; yLabel: string; panels: readonly Panel[]; columns: number; logX?: boolean; yMax?: number }): string {
  const cols = opts.columns;
  const rows = Math.ceil(opts.panels.length / cols);
  const pw = 230;
  const ph = 170;
  const m = { l: 60, t: 40, gapX: 30, gapY: 56, r: 180 };
  const W = m.l + cols * pw + (cols - 1) * m.gapX + m.r;
  const H = m.t + rows * ph + rows * m.gapY;
  const xs = opts.panels.flatMap((p) => p.lines.flatMap((l) => l.points.map((q) => q[0])));
  const positive = xs.filter((x) => x > 0);
  const lx0 = Math.floor(Math.log10(Math.min(...positive))) - 0.5;
  const lx1 = Math.ceil(Math.log10(Math.max(...positive)));
  const yMax = opts.yMax ?? niceMax(Math.max(...opts.panels.flatMap((p) => p.lines.flatMap((l) => l.points.map((q) => q[1])))));
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  out.push(text((W - m.r) / 2, 20, opts.title, { anchor: 'middle', size: 14, weight: 'bold' }));
  opts.panels.forEach((p, i) => {
    const ox = m.l + (i % cols) * (pw + m.gapX);
    const oy = m.t + Math.floor(i / cols) * (ph + m.gapY);
    const X = (x: number) => (opts.logX ? ox + ((x > 0 ? Math.log10(x) : lx0) - lx0) / (lx1 - lx0) * pw : ox + (x / Math.max(...xs)) * pw);
    const Y = (v: number) => oy + ph - (Math.min(v, yMax) / yMax) * ph;
    out.push(text(ox + pw / 2, oy - 6, p.title, { anchor: 'middle', size: 12, weight: 'bold' }));
    for (const f of [0, 0.25, 0.5, 0.75, 1]) out.push(`<line x1="${ox}" x2="${ox + pw}" y1="${num(Y(f * yMax))}" y2="${num(Y(f * yMax))}" stroke="#ddd"/>`, i % cols === 0 ? text(ox - 5, Y(f * yMax) + 4, tick(f * yMax), { anchor: 'end', size: 10 }) : '');
    if (opts.logX) {
      out.push(text(X(0), oy + ph + 14, '0', { anchor: 'middle', size: 9 }));
      for (let e = Math.ceil(lx0); e <= lx1; e++) out.push(`<line x1="${num(X(10 ** e))}" x2="${num(X(10 ** e))}" y1="${oy}" y2="${oy + ph}" stroke="#eee"/>`, text(X(10 ** e), oy + ph + 14, `1e${e}`, { anchor: 'middle', size: 9 }));
    }
    out.push(`<rect x="${ox}" y="${oy}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
    out.push(text(ox + pw / 2, oy + ph + 30, opts.xLabel, { anchor: 'middle', size: 10 }));
    p.lines.forEach((l, li) => {
      const d = l.points.map((q, k) => `${k ? 'L' : 'M'}${num(X(q[0]))},${num(Y(q[1]))}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${COLORS[li % COLORS.length]}" stroke-width="2"${l.dashed ? ' stroke-dasharray="5,3"' : ''}/>`);
      for (const q of l.points) out.push(`<circle cx="${num(X(q[0]))}" cy="${num(Y(q[1]))}" r="2.5" fill="${COLORS[li % COLORS.length]}"><title>${esc(`${l.name}: ${q[0]} -> ${num(q[1] * 1000) === '0' ? 0 : q[1].toFixed(3)}`)}</title></circle>`);
    });
  });
  out.push(text(18, m.t + (rows * ph) / 2, opts.yLabel, { anchor: 'middle', rotate: -90 }));
  const first = opts.panels[0]!;
  out.push(legend(W - m.r + 20, m.t + 14, first.lines.map((l) => l.name), first.lines.map((l) => !!l.dashed)));
  out.push('</svg>');
  return out.join('\n') + '\n';
}
