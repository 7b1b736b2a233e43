/**
 * WS-Discovery (ONVIF Core §7) client: Probe by unicast to address ranges
 * in routed subnets, or by multicast on one interface's local segment.
 * Replies are hostile input: size-capped, parsed without DTDs, matched to
 * our MessageID.
 */
import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { at, list, parseXml, text } from './xml.ts';

export const WSD_MULTICAST = { address: '239.255.255.250', port: 3702 } as const;

export interface ProbeMatch {
  /** Stable endpoint reference, usually `urn:uuid:…`. */
  endpoint: string;
  xaddrs: string[];
  scopes: string[];
  types: string[];
  /** Address the reply came from. */
  from: string;
}

export function probeMessage(messageId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    `<e:Header><w:MessageID>${messageId}</w:MessageID><w:To e:mustUnderstand="true">urn:schemas-xmlsoap-org:ws:2005:04:discovery</w:To>` +
    '<w:Action e:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</w:Action></e:Header>' +
    '<e:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></e:Body></e:Envelope>'
  );
}

/** Parses a ProbeMatches reply; returns [] for anything else. Throws on malformed XML. */
export function parseProbeMatches(xml: string, expectRelatesTo: string | null, from: string): ProbeMatch[] {
  const doc = parseXml(xml, 64 * 1024);
  const env = at(doc, 'Envelope');
  const relatesTo = text(at(env, 'Header', 'RelatesTo'));
  if (expectRelatesTo && relatesTo && relatesTo !== expectRelatesTo) return [];
  const out: ProbeMatch[] = [];
  for (const m of list(at(env, 'Body', 'ProbeMatches', 'ProbeMatch')).slice(0, 16)) {
    const endpoint = text(at(m, 'EndpointReference', 'Address'));
    const xaddrs = (text(at(m, 'XAddrs')) ?? '').split(/\s+/).filter((x) => /^https?:\/\/[^\s]{1,500}$/.test(x));
    if (!endpoint || !xaddrs.length) continue;
    out.push({
      endpoint: endpoint.slice(0, 200),
      xaddrs: xaddrs.slice(0, 8),
      scopes: (text(at(m, 'Scopes')) ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .slice(0, 32)
        .map((s) => s.slice(0, 300)),
      types: (text(at(m, 'Types')) ?? '').split(/\s+/).filter(Boolean).slice(0, 8),
      from,
    });
  }
  return out;
}

export interface ProbeOptions {
  timeoutMs: number;
  /**
   * Unicast: probe again the targets that have not answered, this many times
   * (UDP loses datagrams under load; WS-Discovery itself repeats messages).
   */
  retries?: number;
  /** Probes sent per second (unicast); bounds the load a scan puts on the network. */
  ratePerSecond?: number;
  signal?: AbortSignal;
  onMatch?: (m: ProbeMatch) => void;
  onSent?: (sent: number) => void;
  onBadReply?: (from: string, reason: string) => void;
}

function openSocket(bind?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const family = bind && isIP(bind) === 6 ? 'udp6' : 'udp4';
    const s = createSocket({ type: family, reuseAddr: false });
    s.once('error', reject);
    s.bind({ port: 0, ...(bind ? { address: bind } : {}) }, () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

async function collect(
  socket: Socket,
  messageId: string,
  send: (answered: Set<string>) => Promise<void>,
  opts: ProbeOptions,
  accept: (from: string) => boolean,
): Promise<ProbeMatch[]> {
  const seen = new Map<string, ProbeMatch>();
  const answered = new Set<string>();
  try {
    // Hundreds of replies can arrive within milliseconds of each other.
    socket.setRecvBufferSize(4 * 1024 * 1024);
  } catch {
    // the kernel may cap it; the default still works at lower rates
  }
  socket.on('message', (msg, rinfo) => {
    if (!accept(rinfo.address)) return;
    let matches: ProbeMatch[];
    try {
      matches = parseProbeMatches(msg.toString('utf8'), messageId, rinfo.address);
    } catch (err) {
      opts.onBadReply?.(rinfo.address, (err as Error).message);
      return;
    }
    if (matches.length) answered.add(rinfo.address);
    for (const m of matches) {
      const key = `${m.endpoint}|${m.from}`;
      if (seen.has(key)) continue;
      seen.set(key, m);
      opts.onMatch?.(m);
    }
  });
  socket.on('error', () => undefined);
  try {
    await send(answered);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, opts.timeoutMs);
      opts.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  } finally {
    socket.close();
  }
  return [...seen.values()];
}

/** Unicast Probe to each target; waits `timeoutMs` after the last send for replies. */
export async function probeUnicast(
  targets: { host: string; port: number }[],
  opts: ProbeOptions & { bind?: string },
): Promise<ProbeMatch[]> {
  const messageId = `uuid:${randomUUID()}`;
  const payload = Buffer.from(probeMessage(messageId), 'utf8');
  const socket = await openSocket(opts.bind);
  const hosts = new Set(targets.map((t) => t.host));
  const rate = opts.ratePerSecond ?? 2000;
  return collect(
    socket,
    messageId,
    async (answered) => {
      const pass = async (list: { host: string; port: number }[], report: boolean) => {
        const started = Date.now();
        for (let i = 0; i < list.length; i++) {
          if (opts.signal?.aborted) return;
          const t = list[i]!;
          await new Promise<void>((resolve) => socket.send(payload, t.port, t.host, () => resolve()));
          if (report) opts.onSent?.(i + 1);
          // Pace by rate: sleep whenever we are ahead of schedule.
          const ahead = started + ((i + 1) * 1000) / rate - Date.now();
          if (ahead > 4) await new Promise((r) => setTimeout(r, ahead));
        }
      };
      await pass(targets, true);
      for (let r = 0; r < (opts.retries ?? 1) && !opts.signal?.aborted; r++) {
        // Give replies to the last pass a moment, then ask the silent ones again.
        await new Promise((res) => setTimeout(res, Math.min(500, opts.timeoutMs / 2)));
        const silent = targets.filter((t) => !answered.has(t.host));
        if (!silent.length) break;
        await pass(silent, false);
      }
    },
    opts,
    (from) => hosts.has(from),
  );
}

/** Multicast Probe on the segment of one local interface address (production; tests use a netns). */
export async function probeMulticast(interfaceAddress: string, opts: ProbeOptions): Promise<ProbeMatch[]> {
  const messageId = `uuid:${randomUUID()}`;
  const payload = Buffer.from(probeMessage(messageId), 'utf8');
  const socket = await openSocket(interfaceAddress);
  socket.setMulticastInterface(interfaceAddress);
  socket.setMulticastTTL(1);
  return collect(
    socket,
    messageId,
    async () => {
      await new Promise<void>((resolve) =>
        socket.send(payload, WSD_MULTICAST.port, WSD_MULTICAST.address, () => resolve()),
      );
      opts.onSent?.(1);
    },
    opts,
    () => true,
  );
}
