/** Small inline-SVG charts for the dashboard: no chart library, nothing fetched. */

export interface Series {
  key: string;
  label: string;
  color: string;
  values: number[];
}

const W = 560;
const H = 220;
const PAD = { left: 40, right: 12, top: 12, bottom: 44 };

/** A top for four equal grid steps of a round size (1, 2 or 5 × 10ⁿ), so counts get whole-number ticks. */
function niceMax(max: number): number {
  if (max <= 0) return 4;
  const raw = max / 4;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return Math.max(1, m * pow) * 4;
  return 40 * pow;
}

function Axes({ max, suffix = '' }: { max: number; suffix?: string }) {
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const plotH = H - PAD.top - PAD.bottom;
  return (
    <g className="chart__axes">
      {ticks.map((f) => {
        const y = PAD.top + plotH * (1 - f);
        const v = max * f;
        return (
          <g key={f}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} className="chart__grid" />
            <text x={PAD.left - 6} y={y + 4} textAnchor="end" className="chart__tick">
              {Number.isInteger(v) ? v : v.toFixed(1)}
              {suffix}
            </text>
          </g>
        );
      })}
    </g>
  );
}

function Legend({ series }: { series: readonly Series[] }) {
  return (
    <div className="chart__legend">
      {series.map((s) => (
        <span key={s.key}>
          <i style={{ background: s.color }} />
          {s.label}
        </span>
      ))}
    </div>
  );
}

function shortLabel(label: string, max: number): string {
  return label.length > max ? `${label.slice(0, max - 1)}…` : label;
}

/** Grouped bars: one group per label, one bar per series. */
export function BarChart({
  title,
  labels,
  series,
  fixedMax,
  suffix,
}: {
  title: string;
  labels: readonly string[];
  series: readonly Series[];
  fixedMax?: number;
  suffix?: string;
}) {
  const max = fixedMax ?? niceMax(Math.max(4, ...series.flatMap((s) => s.values)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const group = labels.length > 0 ? plotW / labels.length : plotW;
  const bar = Math.max(2, Math.min(28, (group * 0.8) / Math.max(1, series.length)));
  return (
    <figure className="chart" data-chart={title}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <Axes max={max} suffix={suffix} />
        {labels.map((label, i) => {
          const x0 = PAD.left + group * i + (group - bar * series.length) / 2;
          return (
            <g key={`${label}-${i}`}>
              {series.map((s, j) => {
                const v = s.values[i] ?? 0;
                const h = (Math.min(v, max) / max) * plotH;
                return (
                  <rect
                    key={s.key}
                    x={x0 + j * bar}
                    y={PAD.top + plotH - h}
                    width={bar - 1}
                    height={h}
                    fill={s.color}
                    data-series={s.key}
                    data-value={v}
                  >
                    <title>{`${label} · ${s.label}: ${v}${suffix ?? ''}`}</title>
                  </rect>
                );
              })}
              <text
                x={PAD.left + group * i + group / 2}
                y={H - PAD.bottom + 16}
                textAnchor="middle"
                className="chart__label"
              >
                {shortLabel(label, labels.length > 8 ? 4 : 8)}
              </text>
            </g>
          );
        })}
      </svg>
      <Legend series={series} />
    </figure>
  );
}

/** Lines over period buckets. */
export function LineChart({
  title,
  labels,
  series,
}: {
  title: string;
  labels: readonly string[];
  series: readonly Series[];
}) {
  const max = niceMax(Math.max(4, ...series.flatMap((s) => s.values)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = labels.length > 1 ? plotW / (labels.length - 1) : 0;
  const x = (i: number) => PAD.left + (labels.length > 1 ? step * i : plotW / 2);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const every = Math.max(1, Math.ceil(labels.length / 8));
  return (
    <figure className="chart" data-chart={title}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <Axes max={max} />
        {series.map((s) => (
          <g key={s.key} data-series={s.key}>
            <polyline
              fill="none"
              stroke={s.color}
              strokeWidth={2}
              points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(' ')}
            />
            {s.values.map((v, i) => (
              <circle key={i} cx={x(i)} cy={y(v)} r={3} fill={s.color} data-value={v}>
                <title>{`${labels[i] ?? ''} · ${s.label}: ${v}`}</title>
              </circle>
            ))}
          </g>
        ))}
        {labels.map((label, i) =>
          i % every === 0 ? (
            <text key={label} x={x(i)} y={H - PAD.bottom + 16} textAnchor="middle" className="chart__label">
              {label.slice(5)}
            </text>
          ) : null,
        )}
      </svg>
      <Legend series={series} />
    </figure>
  );
}
