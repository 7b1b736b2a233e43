/**
 * Deterministic camera fleets for the simulator: vendors, models, serials, MACs, passwords and clock
 * offsets that look like what a technician meets in a county's camera networks.
 */
import { createHash } from 'node:crypto';
import type { SimCameraSpec, SimStreamProfile } from './types.ts';

/** mulberry32: small, fast, good enough for a reproducible fleet. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${ip}`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new Error(`not an IPv4 address: ${ip}`);
    n = n * 256 + Number(p);
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The simulator must never leave 127.0.0.0/8; every address it binds or sends to passes this check. */
export function isLoopbackV4(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** Hosts from `firstIp` upwards, skipping .0 and .255 in the last octet (a technician would not use them). */
export function loopbackHosts(count: number, firstIp = '127.0.1.1'): string[] {
  if (!isLoopbackV4(firstIp)) throw new Error(`simulated cameras live on loopback only (127.0.0.0/8), got ${firstIp}`);
  const out: string[] = [];
  let n = ipToInt(firstIp);
  while (out.length < count) {
    const last = n & 255;
    if (last !== 0 && last !== 255) {
      const ip = intToIp(n);
      if (!isLoopbackV4(ip)) throw new Error(`${count} cameras from ${firstIp} run past 127.255.255.254`);
      out.push(ip);
    }
    n++;
  }
  return out;
}

/** The simulator's password rule, so tests and demos can derive a camera's password from its serial. */
export function simPasswordFor(serial: string): string {
  return `Sim${createHash('sha1').update(serial).digest('hex').slice(0, 8)}!`;
}

interface ModelDef {
  manufacturer: string;
  model: string;
  ptz: boolean;
  main: SimStreamProfile;
  ouis: string[];
  serial: (r: () => number, i: number) => string;
  firmware: string;
}

const FHD: SimStreamProfile = { width: 1920, height: 1080, fps: 25, bitrateKbps: 4096 };
const HD: SimStreamProfile = { width: 1280, height: 720, fps: 25, bitrateKbps: 2048 };
export const DEFAULT_SUB: SimStreamProfile = { width: 640, height: 360, fps: 15, bitrateKbps: 512 };

const digits = (r: () => number, n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');
const letters = (r: () => number, n: number) =>
  Array.from({ length: n }, () => 'ABCDEFGHJKLMNPRSTUVWXYZ'[Math.floor(r() * 23)]).join('');
const yyyymmdd = (r: () => number) => {
  const y = 2018 + Math.floor(r() * 6);
  const m = 1 + Math.floor(r() * 12);
  const d = 1 + Math.floor(r() * 28);
  return `${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`;
};

// Hikvision serials embed model and build date; Dahua use a 15-character code; Uniview a 20-digit one.
const hikSerial = (model: string) => (r: () => number) => `${model}${yyyymmdd(r)}AACH${letters(r, 1)}${digits(r, 8)}`;
const dahuaSerial = (r: () => number) =>
  `${digits(r, 1)}${letters(r, 1)}${digits(r, 5)}PA${letters(r, 1)}${digits(r, 5)}`;
const unvSerial = (r: () => number) => `210235C${letters(r, 2)}${digits(r, 11)}`;

const FIXED: ModelDef[] = [
  {
    manufacturer: 'HIKVISION',
    model: 'DS-2CD3T46WDV3-I3',
    ptz: false,
    main: FHD,
    ouis: ['44:19:b6', 'c0:56:e3', 'bc:ad:28'],
    serial: hikSerial('DS-2CD3T46WDV3-I3'),
    firmware: 'V5.7.3 build 220112',
  },
  {
    manufacturer: 'HIKVISION',
    model: 'DS-2CD2T47G2-L',
    ptz: false,
    main: FHD,
    ouis: ['44:19:b6', 'c0:56:e3', 'bc:ad:28'],
    serial: hikSerial('DS-2CD2T47G2-L'),
    firmware: 'V5.7.11 build 221121',
  },
  {
    manufacturer: 'HIKVISION',
    model: 'DS-2CD3120F-I',
    ptz: false,
    main: HD,
    ouis: ['44:19:b6', 'c0:56:e3'],
    serial: hikSerial('DS-2CD3120F-I'),
    firmware: 'V5.4.5 build 170124',
  },
  {
    manufacturer: 'Dahua',
    model: 'IPC-HFW2431S-S-S2',
    ptz: false,
    main: FHD,
    ouis: ['3c:ef:8c', '90:02:a9', 'e0:50:8b'],
    serial: dahuaSerial,
    firmware: '2.800.0000000.25.R, Build Date 2021-06-09',
  },
  {
    manufacturer: 'Dahua',
    model: 'IPC-HDW1230S',
    ptz: false,
    main: HD,
    ouis: ['3c:ef:8c', '90:02:a9'],
    serial: dahuaSerial,
    firmware: '2.622.0000000.31.R, Build Date 2019-03-20',
  },
  {
    manufacturer: 'Uniview',
    model: 'IPC2124LB-SF40KM-G',
    ptz: false,
    main: FHD,
    ouis: ['48:ea:63', '6c:f1:7e'],
    serial: unvSerial,
    firmware: 'IPC_G6103-B5035P12D1907',
  },
];

const PTZ: ModelDef[] = [
  {
    manufacturer: 'HIKVISION',
    model: 'DS-2DE4425IW-DE',
    ptz: true,
    main: FHD,
    ouis: ['44:19:b6', 'bc:ad:28'],
    serial: hikSerial('DS-2DE4425IW-DE'),
    firmware: 'V5.6.15 build 200320',
  },
  {
    manufacturer: 'Dahua',
    model: 'SD49425XB-HNR',
    ptz: true,
    main: FHD,
    ouis: ['3c:ef:8c', 'e0:50:8b'],
    serial: dahuaSerial,
    firmware: '2.623.0000000.13.R, Build Date 2020-11-02',
  },
  {
    manufacturer: 'Uniview',
    model: 'IPC6322SR-X22P-C',
    ptz: true,
    main: FHD,
    ouis: ['48:ea:63'],
    serial: unvSerial,
    firmware: 'DIPC-B1216.4.11.200429',
  },
];

/** Vendor weights seen in county deployments: Hikvision and Dahua dominate, Uniview trails. */
function pickModel(r: () => number, ptz: boolean): ModelDef {
  const pool = ptz ? PTZ : FIXED;
  const x = r();
  const vendor = x < 0.45 ? 'HIKVISION' : x < 0.8 ? 'Dahua' : 'Uniview';
  const candidates = pool.filter((m) => m.manufacturer === vendor);
  return candidates[Math.floor(r() * candidates.length)] ?? pool[0]!;
}

/**
 * GB/T 28181 code: centre code (8: province, city, county, grassroots unit), industry (2),
 * type (3; 132 = network camera), network flag (1), serial (6).
 */
export function gbCode(county: string, industry: string, index: number): string {
  const code = `${county}${industry}1320${String(index).padStart(6, '0')}`;
  if (!/^\d{20}$/.test(code)) throw new Error(`bad GB/T 28181 code ${code}`);
  return code;
}

// Industry codes by network: 00 road (Skynet), 01 community (Sharp Eyes), 04 traffic, 10 urban management.
const INDUSTRIES = ['01', '01', '01', '00', '00', '04', '10'];

export function defaultCameraSpecs(
  count: number,
  opts: { firstIp?: string; seed?: number; countyCode?: string } = {},
): SimCameraSpec[] {
  const r = prng(opts.seed ?? 28181);
  const county = opts.countyCode ?? '34112600';
  const hosts = loopbackHosts(count, opts.firstIp);
  return hosts.map((host, i) => {
    // Every fifth camera is a PTZ dome; the rest fixed bullets/turrets.
    const ptz = i % 5 === 2;
    const m = pickModel(r, ptz);
    const serial = m.serial(r, i);
    const oui = m.ouis[Math.floor(r() * m.ouis.length)] ?? m.ouis[0]!;
    const nic = Array.from({ length: 3 }, () =>
      Math.floor(r() * 256)
        .toString(16)
        .padStart(2, '0'),
    ).join(':');
    const industry = INDUSTRIES[Math.floor(r() * INDUSTRIES.length)]!;
    // Clocks: most are on NTP; some drift by seconds; a few are an hour out; one in 25 reads Beijing time as UTC.
    let clockOffsetSec = 0;
    if (i % 25 === 7) clockOffsetSec = 8 * 3600;
    else if (i % 10 === 3) clockOffsetSec = 3600;
    else if (i % 10 === 8) clockOffsetSec = -3600;
    else if (i % 7 === 5) clockOffsetSec = Math.round((r() - 0.5) * 60);
    return {
      code: gbCode(county, industry, i + 1),
      host,
      manufacturer: m.manufacturer,
      model: m.model,
      serial,
      mac: `${oui}:${nic}`,
      firmware: m.firmware,
      username: 'admin',
      password: simPasswordFor(serial),
      clockOffsetSec,
      ptz: m.ptz,
      streams: { main: { ...m.main }, sub: { ...DEFAULT_SUB } },
    };
  });
}

export function resolveStreams(
  spec: SimCameraSpec,
  overrides?: { main?: Partial<SimStreamProfile>; sub?: Partial<SimStreamProfile> },
): { main: SimStreamProfile; sub: SimStreamProfile } {
  return {
    main: { ...FHD, ...spec.streams?.main, ...overrides?.main },
    sub: { ...DEFAULT_SUB, ...spec.streams?.sub, ...overrides?.sub },
  };
}

/** Stable urn:uuid per camera code, as real devices keep theirs across reboots. */
export function endpointUuid(code: string): string {
  const h = createHash('sha1').update(`sim-camera:${code}`).digest('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
