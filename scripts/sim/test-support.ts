/**
 * Small clients for the simulator's tests: a raw RTSP client with interleaved RTP, a SOAP poster, a
 * WS-Discovery prober. Loopback only, bounded in time.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import net from 'node:net';
import { probeXml } from './discovery.ts';
import { NAL, nalType } from './h264.ts';
import { isLoopbackV4 } from './specs.ts';
import { readClockSei } from './wallclock.ts';
import { usernameTokenHeader } from './wsse.ts';

export interface RtspResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RtpPacket {
  channel: number;
  marker: boolean;
  payloadType: number;
  seq: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
  receivedAt: number;
  /** performance.now() at arrival (same clock as the simulator's timelines when it runs in this process). */
  receivedPerf: number;
}

/** A raw RTSP/1.0 client over one TCP connection, collecting interleaved packets. */
export class RawRtsp {
  readonly socket: net.Socket;
  readonly packets: RtpPacket[] = [];
  #buf = Buffer.alloc(0);
  #cseq = 0;
  #waiting: Array<(r: RtspResponse) => void> = [];
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d) => this.#onData(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static connect(host: string, port: number): Promise<RawRtsp> {
    if (!isLoopbackV4(host)) throw new Error('tests stay on loopback');
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port }, () => {
        s.off('error', reject);
        resolve(new RawRtsp(s));
      });
      s.once('error', reject);
    });
  }

  request(
    method: string,
    url: string,
    headers: Record<string, string> = {},
    timeoutMs = 10_000,
  ): Promise<RtspResponse> {
    let out = `${method} ${url} RTSP/1.0\r\nCSeq: ${++this.#cseq}\r\nUser-Agent: sim-test\r\n`;
    for (const [k, v] of Object.entries(headers)) out += `${k}: ${v}\r\n`;
    this.socket.write(`${out}\r\n`);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${method} timed out`)), timeoutMs);
      this.#waiting.push((r) => {
        clearTimeout(t);
        resolve(r);
      });
    });
  }

  /** DESCRIBE, SETUP (TCP interleaved), PLAY on a stream URL. */
  async play(
    url: string,
  ): Promise<{ describe: RtspResponse; setup: RtspResponse; play: RtspResponse; session: string }> {
    const { describe, setup, session } = await this.setup(url);
    const play = await this.request('PLAY', url, { Session: session, Range: 'npt=0.000-' });
    return { describe, setup, play, session };
  }

  /** DESCRIBE and SETUP (TCP interleaved) only; PLAY when the caller chooses. */
  async setup(url: string): Promise<{ describe: RtspResponse; setup: RtspResponse; session: string }> {
    const describe = await this.request('DESCRIBE', url, { Accept: 'application/sdp' });
    const setup = await this.request('SETUP', `${url}/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    return { describe, setup, session: (setup.headers['session'] ?? '').split(';')[0]! };
  }

  async waitPackets(count: number, timeoutMs: number): Promise<RtpPacket[]> {
    const end = Date.now() + timeoutMs;
    while (this.packets.length < count && Date.now() < end && !this.closed) await new Promise((r) => setTimeout(r, 20));
    return this.packets;
  }

  close(): void {
    this.socket.destroy();
  }

  #onData(d: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, d]);
    for (;;) {
      if (this.#buf.length === 0) return;
      if (this.#buf[0] === 0x24) {
        if (this.#buf.length < 4) return;
        const len = this.#buf.readUInt16BE(2);
        if (this.#buf.length < 4 + len) return;
        const pkt = this.#buf.subarray(4, 4 + len);
        const channel = this.#buf[1]!;
        if (channel % 2 === 0 && pkt.length >= 12) {
          this.packets.push({
            channel,
            marker: (pkt[1]! & 0x80) !== 0,
            payloadType: pkt[1]! & 0x7f,
            seq: pkt.readUInt16BE(2),
            timestamp: pkt.readUInt32BE(4),
            ssrc: pkt.readUInt32BE(8),
            payload: Buffer.from(pkt.subarray(12)),
            receivedAt: Date.now(),
            receivedPerf: performance.now(),
          });
        }
        this.#buf = this.#buf.subarray(4 + len);
        continue;
      }
      const end = this.#buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.#buf.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of head.slice(1)) {
        const c = l.indexOf(':');
        if (c > 0) headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
      }
      const len = Number(headers['content-length'] ?? 0);
      if (this.#buf.length < end + 4 + len) return;
      const body = this.#buf.subarray(end + 4, end + 4 + len).toString('utf8');
      this.#buf = this.#buf.subarray(end + 4 + len);
      const status = Number(/^RTSP\/1\.0 (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
      this.#waiting.shift()?.({ status, headers, body });
    }
  }
}

export interface SoapOptions {
  username?: string;
  password?: string;
  /** Created time for the UsernameToken (default: real now). */
  createdMs?: number;
  /** A ready header block, e.g. to replay one. */
  securityHeader?: string;
  version?: '1.1' | '1.2';
  timeoutMs?: number;
  /** HTTP Authorization header (HTTP Basic/Digest instead of a UsernameToken). */
  authorization?: string;
}

export async function soap(
  url: string,
  bodyXml: string,
  o: SoapOptions = {},
): Promise<{ status: number; text: string; securityHeader: string }> {
  const u = new URL(url);
  if (!isLoopbackV4(u.hostname)) throw new Error('tests stay on loopback');
  const sec =
    o.securityHeader ??
    (o.username && o.password ? usernameTokenHeader(o.username, o.password, o.createdMs ?? Date.now()) : '');
  const env =
    o.version === '1.1' ? 'http://schemas.xmlsoap.org/soap/envelope/' : 'http://www.w3.org/2003/05/soap-envelope';
  const xml = `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${env}"><s:Header>${sec}</s:Header><s:Body>${bodyXml}</s:Body></s:Envelope>`;
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': o.version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8',
      ...(o.authorization ? { Authorization: o.authorization } : {}),
    },
    body: xml,
    signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
  });
  return { status: res.status, text: await res.text(), securityHeader: sec };
}

/** Sends one unicast Probe from a loopback UDP socket and collects replies for `waitMs`. */
export async function unicastProbe(host: string, port: number, types?: string, waitMs = 1000): Promise<string[]> {
  if (!isLoopbackV4(host)) throw new Error('tests stay on loopback');
  const sock = createSocket('udp4');
  const replies: string[] = [];
  sock.on('message', (m) => replies.push(m.toString('utf8')));
  await new Promise<void>((r) => sock.bind({ address: '127.0.0.1', port: 0 }, () => r()));
  const msg = Buffer.from(probeXml(`urn:uuid:${randomUUID()}`, types));
  sock.send(msg, port, host);
  const end = Date.now() + waitMs;
  while (Date.now() < end && replies.length === 0) await new Promise((r) => setTimeout(r, 20));
  sock.close();
  return replies;
}

/** Runs a command with a time limit; resolves with exit code and output. */
export function run(
  cmd: string,
  args: string[],
  timeoutMs = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Received pictures: packets grouped by RTP timestamp, FU-A fragments joined back into NAL units. */
export function accessUnitsOf(packets: readonly RtpPacket[]): Array<{ timestamp: number; nals: Buffer[] }> {
  const out: Array<{ timestamp: number; nals: Buffer[] }> = [];
  let fu: Buffer[] = [];
  for (const p of packets) {
    let au = out.at(-1);
    if (!au || au.timestamp !== p.timestamp) {
      au = { timestamp: p.timestamp, nals: [] };
      out.push(au);
    }
    const type = (p.payload[0] ?? 0) & 0x1f;
    if (type !== 28) {
      au.nals.push(p.payload);
      continue;
    }
    const fuHeader = p.payload[1] ?? 0;
    if (fuHeader & 0x80) fu = [Buffer.from([(p.payload[0]! & 0xe0) | (fuHeader & 0x1f)])];
    fu.push(p.payload.subarray(2));
    if (fuHeader & 0x40) au.nals.push(Buffer.concat(fu));
  }
  return out;
}

/** One received picture: its NAL units, whether it is a keyframe, the simulator's clock SEI, arrival times. */
export interface ReceivedFrame {
  timestamp: number;
  nals: Buffer[];
  idr: boolean;
  /** Capture time and timeline frame number from the clock SEI. */
  clock: { wallClockMs: number; frame: number } | undefined;
  /** Arrival of the picture's first packet: Date.now() and performance.now(). */
  receivedAt: number;
  receivedPerf: number;
}

export function framesOf(packets: readonly RtpPacket[]): ReceivedFrame[] {
  const first = new Map<number, RtpPacket>();
  for (const p of packets) if (!first.has(p.timestamp)) first.set(p.timestamp, p);
  return accessUnitsOf(packets).map((au) => {
    const p = first.get(au.timestamp)!;
    let clock: ReceivedFrame['clock'];
    for (const n of au.nals) clock ??= readClockSei(n);
    return {
      timestamp: au.timestamp,
      nals: au.nals,
      idr: au.nals.some((n) => nalType(n) === NAL.IDR),
      clock,
      receivedAt: p.receivedAt,
      receivedPerf: p.receivedPerf,
    };
  });
}

/** Received pictures as an Annex-B byte stream (for ffmpeg). */
export function annexB(frames: readonly { nals: Buffer[] }[]): Buffer {
  const sc = Buffer.from([0, 0, 0, 1]);
  return Buffer.concat(frames.flatMap((f) => f.nals.flatMap((n) => [sc, n])));
}
