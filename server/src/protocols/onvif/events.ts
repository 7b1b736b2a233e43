/**
 * ONVIF event notifications (WS-BaseNotification inside PullMessages) read
 * into the few kinds the platform acts on. Everything from the device is
 * untrusted: unknown topics are skipped, counts are capped, times that do
 * not parse become null.
 */
import { at, attr, list, text, type XmlNode } from '../xml.ts';

export type OnvifEventKind = 'motion' | 'tamper';

export interface OnvifEvent {
  kind: OnvifEventKind;
  /** The topic as the device wrote it, prefixes dropped (e.g. VideoSource/MotionAlarm). */
  topic: string;
  /** true: motion seen / scene changed; false: it ended. */
  state: boolean;
  /** Initialized (state on subscribe), Changed, Deleted; null when absent. */
  operation: string | null;
  /** UtcTime on the device clock; null when absent or unparseable. */
  utcTime: Date | null;
  /** Video source token, when given. */
  source: string | null;
}

/**
 * Topics per kind (ONVIF topic set, prefixes dropped). The RuleEngine cell
 * motion detector is what Hikvision and Dahua raise instead of MotionAlarm.
 */
const TOPICS: { re: RegExp; kind: OnvifEventKind; items: string[] }[] = [
  { re: /^VideoSource\/MotionAlarm$/, kind: 'motion', items: ['State'] },
  { re: /^RuleEngine\/CellMotionDetector\/Motion$/, kind: 'motion', items: ['IsMotion', 'State'] },
  {
    re: /^VideoSource\/GlobalSceneChange\/(ImagingService|AnalyticsService|RecordingService)$/,
    kind: 'tamper',
    items: ['State'],
  },
  { re: /^RuleEngine\/TamperDetector\/Tamper$/, kind: 'tamper', items: ['IsTamper', 'State'] },
];

/** `tns1:VideoSource/MotionAlarm` → `VideoSource/MotionAlarm`. */
export function normaliseTopic(raw: string): string {
  return raw
    .trim()
    .split('/')
    .map((seg) => seg.replace(/^[^:]*:/, ''))
    .join('/');
}

function bool(v: string | undefined): boolean | null {
  if (v === undefined) return null;
  const s = v.trim().toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  return null;
}

function simpleItem(node: XmlNode | undefined, names: string[]): string | undefined {
  const items = list(at(node, 'SimpleItem')).slice(0, 32);
  for (const name of names) {
    const hit = items.find((i) => attr(i, 'Name') === name);
    if (hit) return attr(hit, 'Value');
  }
  return undefined;
}

/** The motion and tamper events in a PullMessagesResponse (or any node holding NotificationMessage). */
export function parseNotifications(response: XmlNode | undefined, max = 1024): OnvifEvent[] {
  const out: OnvifEvent[] = [];
  for (const n of list(at(response, 'NotificationMessage')).slice(0, Math.max(0, max))) {
    const rawTopic = text(at(n, 'Topic'));
    if (!rawTopic || rawTopic.length > 256) continue;
    const topic = normaliseTopic(rawTopic);
    const known = TOPICS.find((t) => t.re.test(topic));
    if (!known) continue;
    const msg = at(n, 'Message', 'Message');
    const state = bool(simpleItem(at(msg, 'Data'), known.items));
    if (state === null) continue;
    const utc = attr(msg, 'UtcTime');
    const ms = utc && utc.length <= 64 ? Date.parse(utc) : NaN;
    const op = attr(msg, 'PropertyOperation');
    const src = simpleItem(at(msg, 'Source'), ['VideoSourceConfigurationToken', 'VideoSourceToken', 'Source']);
    out.push({
      kind: known.kind,
      topic,
      state,
      operation: op && /^\w{1,32}$/.test(op) ? op : null,
      utcTime: Number.isFinite(ms) ? new Date(ms) : null,
      source: src && src.length <= 64 ? src : null,
    });
  }
  return out;
}
