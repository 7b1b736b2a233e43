/**
 * The demo county (示范县): townships, villages, camera points on every
 * network and one user per role. Deterministic for a given seed, so the
 * README, the tests and the benchmarks can rely on names and counts.
 */
import type { Role } from '../api/contract.ts';
import { hashPassword, type UserRepo } from '../auth/index.ts';
import type { CameraFields, CameraRepo } from '../cameras/repo.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { OrgRepo, OrgUnit } from '../org/repo.ts';

export const DEMO_PASSWORD = 'Demo@2026';

/** Fictional division codes (34 99 01 …) so no real county is implied. */
const COUNTY_CODE = '349901000000';
const TOWNSHIP_NAMES = [
  '城关镇',
  '东湖街道',
  '青山镇',
  '白沙乡',
  '河口镇',
  '龙泉镇',
  '石桥乡',
  '新安镇',
  '桃源乡',
  '马岭镇',
  '清溪镇',
  '南塘街道',
  '高坪乡',
  '柳林镇',
  '长乐镇',
  '金山乡',
];
const VILLAGE_STEMS = [
  '李家',
  '王庄',
  '柳树',
  '桃园',
  '石门',
  '杨湾',
  '大坪',
  '清河',
  '红星',
  '马家',
  '黄泥',
  '新塘',
  '长岭',
  '高桥',
  '双溪',
  '凤凰',
  '金竹',
  '枫林',
  '梅岭',
  '竹园',
  '张湾',
  '陈庄',
  '刘家',
  '周村',
  '吴岗',
  '赵圩',
  '孙桥',
  '胡山',
];
const PLACES = [
  '村口',
  '广场',
  '学校门口',
  '卫生室',
  '桥头',
  '路口',
  '菜市场',
  '河堤',
  '停车场',
  '党群服务中心',
  '幼儿园',
  '水库坝顶',
];
const STREET_PLACES = [
  '十字路口',
  '商业街',
  '公交站',
  '医院门口',
  '派出所',
  '超市',
  '银行',
  '车站',
  '中学',
  '小区东门',
];

export const DEMO_USERS: { username: string; displayName: string; role: Role; org: 'county' | 0 | 1 }[] = [
  { username: 'admin', displayName: '系统管理员', role: 'admin', org: 'county' },
  { username: 'county', displayName: '县中心值班员', role: 'county_officer', org: 'county' },
  { username: 'tech', displayName: '县运维技术员', role: 'technician', org: 'county' },
  { username: 'viewer', displayName: '县领导', role: 'viewer', org: 'county' },
  { username: 'township1', displayName: '城关镇综治中心', role: 'township_operator', org: 0 },
  { username: 'tech1', displayName: '城关镇点位登记员', role: 'technician', org: 0 },
  { username: 'township2', displayName: '东湖街道综治中心', role: 'township_operator', org: 1 },
];

export const DEMO_ONVIF_PORT = 8000;
export const DEMO_RTSP_PORT = 8554;

/** Camera i of the demo lives at 127.0.(1 + i / 250).(1 + i % 250): .0 and .255 stay unused. */
export function demoCameraHost(i: number): string {
  return `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

export function demoCredentials(serial: string): { username: string; password: string } {
  return { username: 'admin', password: `pw${serial}` };
}

/** mulberry32: small, fast, good enough for demo data. */
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

type Box = [minLon: number, minLat: number, maxLon: number, maxLat: number];
const polygon = ([a, b, c, d]: Box) => ({
  type: 'Polygon' as const,
  coordinates: [
    [
      [a, b],
      [c, b],
      [c, d],
      [a, d],
      [a, b],
    ],
  ],
});

/** Splits a box into n cells in rows, the last row taking the remainder. */
function split(box: Box, n: number): Box[] {
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const [x0, y0, x1, y1] = box;
  const h = (y1 - y0) / rows;
  const out: Box[] = [];
  for (let r = 0; r < rows; r++) {
    const inRow = r < rows - 1 ? cols : n - cols * (rows - 1);
    const w = (x1 - x0) / inRow;
    for (let c = 0; c < inRow; c++) out.push([x0 + c * w, y1 - (r + 1) * h, x0 + (c + 1) * w, y1 - r * h]);
  }
  return out;
}

export interface DemoOptions {
  seed: number;
  townships: number;
  villagesPerTownship: number;
  cameras: number;
  center: [number, number];
  /**
   * Camera i's address; default `demoCameraHost` (where the demo's simulator answers). Tests give addresses of
   * their own, on which nothing answers, so that a demo running beside them changes nothing (issue 12).
   */
  hostOf?: (i: number) => string;
}

export interface DemoDeps {
  orgs: OrgRepo;
  cameras: CameraRepo;
  users: UserRepo;
  secrets: SecretBox;
}

/** Builds the org tree with boundaries; returns the county and its villages. */
export async function seedOrgTree(
  orgs: OrgRepo,
  opts: DemoOptions,
): Promise<{ county: OrgUnit; townships: OrgUnit[]; villages: OrgUnit[] }> {
  const [cx, cy] = opts.center;
  const countyBox: Box = [cx - 0.25, cy - 0.17, cx + 0.25, cy + 0.17];
  const county = await orgs.insert({
    parentId: null,
    code: COUNTY_CODE,
    name: '示范县',
    level: 'county',
    boundary: polygon(countyBox),
  });
  const townships: OrgUnit[] = [];
  const villages: OrgUnit[] = [];
  for (const [ti, tBox] of split(countyBox, opts.townships).entries()) {
    const tName = TOWNSHIP_NAMES[ti] ?? `第${ti + 1}乡`;
    const t = await orgs.insert({
      parentId: county.id,
      code: `349901${String(ti + 1).padStart(3, '0')}000`,
      name: tName,
      level: 'township',
      boundary: polygon(tBox),
    });
    townships.push(t);
    const street = tName.endsWith('街道');
    for (const [vi, vBox] of split(tBox, opts.villagesPerTownship).entries()) {
      const stem = VILLAGE_STEMS[(ti * opts.villagesPerTownship + vi) % VILLAGE_STEMS.length] ?? '新';
      const round = Math.floor((ti * opts.villagesPerTownship + vi) / VILLAGE_STEMS.length);
      const name = `${stem}${round ? round + 1 : ''}${street ? '社区' : '村'}`;
      villages.push(
        await orgs.insert({
          parentId: t.id,
          code: `349901${String(ti + 1).padStart(3, '0')}${String(vi + 1).padStart(3, '0')}`,
          name,
          level: 'village',
          boundary: polygon(vBox),
        }),
      );
    }
  }
  return { county, townships, villages };
}

const NETWORK_MIX: [string, number][] = [
  ['xueliang', 0.55],
  ['tianwang', 0.2],
  ['urban', 0.1],
  ['huiyan', 0.1],
  ['traffic', 0.05],
];

/** Camera points spread over villages; pure, so benchmarks can build 50,000 of them. */
export function demoCameraFields(
  villages: readonly OrgUnit[],
  count: number,
  seed: number,
  secrets: SecretBox | null,
  codeOffset = 0,
  hostOf: (i: number) => string = demoCameraHost,
): CameraFields[] {
  const rnd = prng(seed);
  const out: CameraFields[] = [];
  const perPlace = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const v = villages[i % villages.length];
    if (!v) break;
    const box = (v.boundary as { coordinates: number[][][] }).coordinates[0] ?? [];
    const [x0 = 0, y0 = 0] = box[0] ?? [];
    const [x1 = 0, y1 = 0] = box[2] ?? [];
    let pick = rnd();
    let network = 'xueliang';
    for (const [id, share] of NETWORK_MIX) {
      if (pick < share) {
        network = id;
        break;
      }
      pick -= share;
    }
    const street = v.name.endsWith('社区');
    const places = street || network === 'traffic' ? STREET_PLACES : PLACES;
    const place = places[Math.floor(rnd() * places.length)] ?? '路口';
    const key = `${v.id}:${place}`;
    const nth = (perPlace.get(key) ?? 0) + 1;
    perPlace.set(key, nth);
    const serial = String(codeOffset + i + 1).padStart(7, '0');
    const code = `34990100${network === 'traffic' ? '06' : network === 'tianwang' ? '02' : '00'}131${serial}`;
    const ptz = network === 'tianwang' ? rnd() < 0.4 : rnd() < 0.08;
    out.push({
      code,
      name: `${v.name}${place}${nth}号${ptz ? '球机' : ''}`,
      networkId: network,
      orgUnitId: v.id,
      orgPath: v.path,
      lon: Number((x0 + (x1 - x0) * (0.05 + 0.9 * rnd())).toFixed(6)),
      lat: Number((y0 + (y1 - y0) * (0.05 + 0.9 * rnd())).toFixed(6)),
      coordSource: 'wgs84',
      address: `示范县${v.name}${place}`,
      direction: ptz ? null : Math.round(rnd() * 359),
      fov: ptz ? null : 60 + Math.round(rnd() * 40),
      // Each demo camera has its own loopback address, where the built-in simulator answers.
      onvifUrl: `http://${hostOf(codeOffset + i)}:${DEMO_ONVIF_PORT}/onvif/device_service`,
      mainStreamUri: `rtsp://${hostOf(codeOffset + i)}:${DEMO_RTSP_PORT}/Streaming/Channels/101`,
      subStreamUri: `rtsp://${hostOf(codeOffset + i)}:${DEMO_RTSP_PORT}/Streaming/Channels/102`,
      credentialsSealed: secrets ? secrets.seal(JSON.stringify(demoCredentials(serial))) : null,
      ptz,
    });
  }
  return out;
}

/** Seeds the demo county into an empty database; does nothing when org units exist. */
export async function seedDemo(deps: DemoDeps, opts: DemoOptions): Promise<boolean> {
  if (deps.orgs.all().length > 0) return false;
  const { county, townships, villages } = await seedOrgTree(deps.orgs, opts);
  await deps.cameras.insertMany(demoCameraFields(villages, opts.cameras, opts.seed, deps.secrets, 0, opts.hostOf));
  const hash = await hashPassword(DEMO_PASSWORD);
  for (const u of DEMO_USERS) {
    const org = u.org === 'county' ? county : townships[u.org];
    if (!org) continue;
    await deps.users.insert({
      username: u.username,
      displayName: u.displayName,
      passwordHash: hash,
      role: u.role,
      orgUnitId: org.id,
    });
  }
  return true;
}
