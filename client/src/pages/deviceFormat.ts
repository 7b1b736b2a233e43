/** How a discovered device's facts are written in the table and the confirmation dialog. */
import type { DiscoveredDeviceView, DiscoveredProfile } from '@api/contract.ts';
import type { Translate } from '../i18n.tsx';

/** Beyond this the device clock is visibly wrong (ONVIF digests are only valid for a few seconds either way). */
export const CLOCK_WARN_MS = 60_000;

const pixels = (p: DiscoveredProfile) => (p.width ?? 0) * (p.height ?? 0);

/**
 * Main stream: the largest H.264/H.265 profile; sub stream: the smallest other one.
 * The same rule the server uses to pick the stream URIs (discovery/interrogate.ts),
 * since the view does not say which profile each URI came from.
 */
export function mainAndSub(profiles: readonly DiscoveredProfile[]): {
  main: DiscoveredProfile | null;
  sub: DiscoveredProfile | null;
} {
  const video = profiles.filter((p) => p.encoding === null || /^(H264|H265|HEVC)$/i.test(p.encoding));
  const sorted = [...(video.length ? video : profiles)].sort((a, b) => pixels(b) - pixels(a));
  const main = sorted[0] ?? null;
  const sub = sorted.length > 1 ? (sorted[sorted.length - 1] ?? null) : null;
  return { main, sub };
}

/** `H.264 1920×1080 25fps` */
export function profileSummary(p: DiscoveredProfile): string {
  const codec = p.encoding ? p.encoding.replace(/^H(26[45])$/i, 'H.$1') : '?';
  const size = p.width && p.height ? `${p.width}×${p.height}` : null;
  const fps = p.fps ? `${Number(p.fps.toFixed(1))}fps` : null;
  return [codec, size, fps].filter(Boolean).join(' ');
}

/** `+3 分 12 秒`, `−2 小时 5 分`, `+0.4 秒`: the two largest units are enough to judge a clock. */
export function formatOffset(ms: number, t: Translate): string {
  const sign = ms < 0 ? '−' : '+';
  const abs = Math.abs(ms);
  if (abs < 10_000) return `${sign}${t('duration.seconds', { n: Number((abs / 1000).toFixed(1)) })}`;
  const units: [number, 'duration.days' | 'duration.hours' | 'duration.minutes' | 'duration.seconds'][] = [
    [86_400_000, 'duration.days'],
    [3_600_000, 'duration.hours'],
    [60_000, 'duration.minutes'],
    [1000, 'duration.seconds'],
  ];
  const parts: string[] = [];
  let rest = Math.round(abs / 1000) * 1000;
  for (const [size, key] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length > 0) parts.push(t(key, { n }));
    if (parts.length === 2) break;
  }
  return `${sign}${parts.filter((p) => !/^0\D/.test(p)).join(' ')}`;
}

export function clockIsOff(device: DiscoveredDeviceView): boolean {
  return device.clockOffsetMs !== null && Math.abs(device.clockOffsetMs) > CLOCK_WARN_MS;
}

/** What the confirmation dialog proposes as the point's name: model (or maker) and address. */
export function suggestedName(device: DiscoveredDeviceView, fallback: string): string {
  const what = device.model ?? device.manufacturer ?? fallback;
  return `${what} ${device.host}`.trim().slice(0, 200);
}

export function makeAndModel(device: DiscoveredDeviceView): string | null {
  const text = [device.manufacturer, device.model].filter(Boolean).join(' ');
  return text === '' ? null : text;
}
