/**
 * WS-Discovery (2005/04, as ONVIF Core 7.3 uses it) for simulated cameras. Each camera answers unicast
 * Probes on its own loopback address, which is how a platform scans routed camera subnets. Multicast
 * (239.255.255.250) is joined only on request and only inside a network namespace other than the
 * machine's own, so the simulator can never chatter on a real network. Replies go to loopback senders only.
 */
import { randomUUID } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { readFileSync, readlinkSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { scopesOf } from './onvif-bodies.ts';
import { isLoopbackV4 } from './specs.ts';
import type { SimCameraInfo, SimCounters } from './types.ts';
import { childText, esc } from './xml.ts';

export const WSD_MULTICAST = '239.255.255.250';
const WSD = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  d: 'http://schemas.xmlsoap.org/ws/2005/04/discovery',
  dn: 'http://www.onvif.org/ver10/network/wsdl',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
};

export interface Probe {
  messageId: string;
  /** Local names of the requested types (dn:NetworkVideoTransmitter → NetworkVideoTransmitter). */
  types: string[];
  scopes: string[];
}

export function parseProbe(text: string): Probe | undefined {
  if (text.length > 65_536 || /<!DOCTYPE|<!ENTITY/i.test(text)) return undefined;
  if (!/<(?:[\w.-]+:)?Probe[\s>/]/.test(text)) return undefined;
  const messageId = childText(text, 'MessageID');
  if (!messageId) return undefined;
  const split = (s: string | undefined) => (s ?? '').split(/\s+/).filter(Boolean);
  return {
    messageId,
    types: split(childText(text, 'Types')).map((t) => t.slice(t.lastIndexOf(':') + 1)),
    scopes: split(childText(text, 'Scopes')),
  };
}

/** WS-Discovery 5.1: types must all be offered; scopes match by RFC 3986 segment prefix. */
export function probeMatches(info: SimCameraInfo, probe: Probe): boolean {
  const offered = ['NetworkVideoTransmitter', 'Device'];
  if (info.ptz) offered.push('PTZ');
  if (!probe.types.every((t) => offered.includes(t))) return false;
  const ours = scopesOf(info);
  return probe.scopes.every((want) => {
    const w = want.replace(/\/+$/, '');
    return ours.some((s) => s === w || s.startsWith(`${w}/`));
  });
}

export function probeMatchXml(
  info: SimCameraInfo,
  relatesTo: string,
  messageNumber: number,
  instanceId: number,
): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<SOAP-ENV:Envelope xmlns:SOAP-ENV="${WSD.soap}" xmlns:wsa="${WSD.wsa}" xmlns:d="${WSD.d}" xmlns:dn="${WSD.dn}" xmlns:tds="${WSD.tds}">` +
    `<SOAP-ENV:Header><wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>` +
    `<wsa:RelatesTo>${esc(relatesTo)}</wsa:RelatesTo>` +
    `<wsa:To SOAP-ENV:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>` +
    `<wsa:Action SOAP-ENV:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>` +
    `<d:AppSequence SOAP-ENV:mustUnderstand="true" MessageNumber="${messageNumber}" InstanceId="${instanceId}"/>` +
    `</SOAP-ENV:Header><SOAP-ENV:Body><d:ProbeMatches><d:ProbeMatch>` +
    `<wsa:EndpointReference><wsa:Address>${esc(info.endpointReference)}</wsa:Address></wsa:EndpointReference>` +
    `<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>` +
    `<d:Scopes>${scopesOf(info).map(esc).join(' ')}</d:Scopes>` +
    `<d:XAddrs>${esc(info.deviceServiceUrl)}</d:XAddrs>` +
    `<d:MetadataVersion>1</d:MetadataVersion>` +
    `</d:ProbeMatch></d:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>`
  );
}

/** A Probe as a client sends it; exported for tests and the platform's own scanner tests. */
export function probeXml(messageId = `urn:uuid:${randomUUID()}`, types = 'dn:NetworkVideoTransmitter'): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<s:Envelope xmlns:s="${WSD.soap}" xmlns:a="${WSD.wsa}" xmlns:d="${WSD.d}" xmlns:dn="${WSD.dn}">` +
    `<s:Header><a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>` +
    `<a:MessageID>${messageId}</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>` +
    `<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>` +
    `<s:Body><d:Probe><d:Types>${types}</d:Types></d:Probe></s:Body></s:Envelope>`
  );
}

/** One camera's unicast responder. */
export class DiscoveryResponder {
  readonly #info: () => SimCameraInfo;
  readonly #counters: SimCounters;
  #sock: Socket | undefined;
  #messageNumber = 0;
  readonly #instanceId = Math.floor(Date.now() / 1000);

  constructor(info: () => SimCameraInfo, counters: SimCounters) {
    this.#info = info;
    this.#counters = counters;
  }

  /** `shared`: the multicast listener will bind the same port on the wildcard address. */
  async listen(host: string, port: number, shared = false): Promise<number> {
    if (!isLoopbackV4(host)) throw new Error(`refusing to bind WS-Discovery off loopback: ${host}`);
    const sock = createSocket({ type: 'udp4', reuseAddr: shared });
    sock.on('error', () => undefined);
    sock.on('message', (msg, rinfo) => this.answer(msg, rinfo));
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: host, port }, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    this.#sock = sock;
    return sock.address().port;
  }

  answer(msg: Buffer, rinfo: RemoteInfo): void {
    const sock = this.#sock;
    // Never answer anything that is not on this machine's loopback.
    if (!sock || !isLoopbackV4(rinfo.address)) return;
    this.#counters.discoveryProbes++;
    const probe = parseProbe(msg.toString('utf8'));
    const info = this.#info();
    if (!probe || !probeMatches(info, probe)) return;
    this.#counters.discoveryMatches++;
    const reply = Buffer.from(probeMatchXml(info, probe.messageId, ++this.#messageNumber, this.#instanceId));
    sock.send(reply, rinfo.port, rinfo.address);
  }

  async close(): Promise<void> {
    const s = this.#sock;
    this.#sock = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/**
 * Multicast may be used only in a network namespace made for a test: one whose interfaces are all
 * loopback (so nothing can leave the machine) and that differs from an ancestor process's namespace.
 */
export function multicastSandbox(): { ok: true } | { ok: false; why: string } {
  const external = Object.entries(networkInterfaces())
    .filter(([, addrs]) => addrs?.some((a) => !a.internal))
    .map(([name]) => name);
  if (external.length) return { ok: false, why: `non-loopback interfaces present (${external.join(', ')})` };
  let self: string;
  try {
    self = readlinkSync('/proc/self/ns/net');
  } catch {
    return { ok: false, why: 'cannot read /proc/self/ns/net' };
  }
  let pid = process.ppid;
  for (let i = 0; i < 64 && pid > 1; i++) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) !== self) return { ok: true };
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return { ok: false, why: 'not inside a network namespace of its own' };
}

/**
 * Multicast listener for a test network namespace: joins 239.255.255.250 on `iface` (a loopback address
 * whose interface has multicast enabled) and lets every online camera answer from its own socket.
 */
export class MulticastDiscovery {
  #sock: Socket | undefined;

  async listen(iface: string, port: number, responders: () => Iterable<DiscoveryResponder>): Promise<void> {
    const sandbox = multicastSandbox();
    if (!sandbox.ok) {
      throw new Error(
        `multicast WS-Discovery is only allowed inside a network namespace made for a test: ${sandbox.why}`,
      );
    }
    if (!isLoopbackV4(iface)) throw new Error(`multicast interface must be a loopback address, got ${iface}`);
    const sock = createSocket({ type: 'udp4', reuseAddr: true });
    sock.on('error', () => undefined);
    sock.on('message', (msg, rinfo) => {
      for (const r of responders()) r.answer(msg, rinfo);
    });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ port, address: '0.0.0.0' }, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.addMembership(WSD_MULTICAST, iface);
    this.#sock = sock;
  }

  async close(): Promise<void> {
    const s = this.#sock;
    this.#sock = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
