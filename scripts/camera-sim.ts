/**
 * Camera simulator CLI: N believable ONVIF cameras on loopback addresses, until SIGINT/SIGTERM.
 *
 *   node scripts/camera-sim.ts --count 50 [--first-ip 127.0.1.1] [--onvif-port 8000] [--rtsp-port 8554]
 *        [--discovery-port 3702] [--no-discovery] [--clip-dir data/sim-clips] [--seed 28181]
 *        [--fault 3=offline] [--fault 7=wrongPassword,slowRepliesMs=1500] [--random-events]
 *        [--main-size 1280x720] [--sub-size 640x360] [--keyframe-interval 1] [--rtsp-auth optional|required]
 *        [--clip-mode per-camera|shared] [--prewarm sub|main|both] [--max-encodes 2] [--json]
 *
 * --clip-mode shared: every camera streams one shared clip per stream geometry, nothing is encoded per
 * camera (benchmarks with thousands of cameras). --prewarm: encode the cameras' own clips in the background.
 *
 * --fault takes a 1-based camera index or a camera code, then comma-separated faults:
 * offline, wrongPassword, stalledStream, malformedXml, slowRepliesMs=<ms>, picture=<black|dark|overexposed|
 * frozen|blurred|covered|colorCast|noisy|moved> (issue 16: a picture fault; `--fault 4=picture=covered`).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  PICTURE_FAULTS,
  defaultCameraSpecs,
  isPictureFault,
  measureResources,
  startSimulator,
  type SimFaults,
} from './sim/index.ts';

const root = path.resolve(import.meta.dirname, '..');

export function parseFault(spec: string): { target: string; faults: SimFaults } {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`--fault ${spec}: expected <index|code>=<fault>[,<fault>...]`);
  const target = spec.slice(0, eq);
  const faults: SimFaults = {};
  for (const part of spec.slice(eq + 1).split(',')) {
    const [k = '', v] = part.split(/[=:]/);
    switch (k) {
      case 'offline':
      case 'wrongPassword':
      case 'stalledStream':
      case 'malformedXml':
        faults[k] = v === undefined ? true : v !== 'false';
        break;
      case 'slowRepliesMs':
      case 'slow': {
        const ms = Number(v ?? 2000);
        if (!Number.isFinite(ms) || ms < 0) throw new Error(`--fault ${spec}: bad delay ${v}`);
        faults.slowRepliesMs = ms;
        break;
      }
      case 'picture':
        if (!isPictureFault(v)) throw new Error(`--fault ${spec}: picture is one of ${PICTURE_FAULTS.join(', ')}`);
        faults.picture = v;
        break;
      default:
        throw new Error(`--fault ${spec}: unknown fault "${k}"`);
    }
  }
  return { target, faults };
}

function size(s: string | undefined): { width: number; height: number } | undefined {
  if (!s) return undefined;
  const m = /^(\d{2,4})x(\d{2,4})$/.exec(s);
  if (!m) throw new Error(`bad size ${s}, expected WIDTHxHEIGHT`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '10' },
      'first-ip': { type: 'string', default: '127.0.1.1' },
      'onvif-port': { type: 'string', default: '8000' },
      'rtsp-port': { type: 'string', default: '8554' },
      'discovery-port': { type: 'string', default: '3702' },
      'no-discovery': { type: 'boolean', default: false },
      'clip-dir': { type: 'string', default: path.join(root, 'data', 'sim-clips') },
      seed: { type: 'string', default: '28181' },
      fault: { type: 'string', multiple: true, default: [] },
      'random-events': { type: 'boolean', default: false },
      'main-size': { type: 'string' },
      'sub-size': { type: 'string' },
      'keyframe-interval': { type: 'string', default: '1' },
      'rtsp-auth': { type: 'string', default: 'optional' },
      'clip-mode': { type: 'string', default: 'per-camera' },
      prewarm: { type: 'string' },
      'max-encodes': { type: 'string', default: '2' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: node scripts/camera-sim.ts --count 50 [--first-ip 127.0.1.1] [--fault 3=offline] ' +
        '[--clip-mode per-camera|shared] [--prewarm sub|main|both] [--max-encodes 2] ... (see the file header)',
    );
    return;
  }
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > 5000) throw new Error('--count must be 1..5000');
  const specs = defaultCameraSpecs(count, { firstIp: values['first-ip'], seed: Number(values.seed) });
  for (const f of values.fault) {
    const { target, faults } = parseFault(f);
    const spec = /^\d{1,4}$/.test(target) ? specs[Number(target) - 1] : specs.find((s) => s.code === target);
    if (!spec) throw new Error(`--fault ${f}: no camera ${target}`);
    spec.faults = { ...spec.faults, ...faults };
  }
  const auth = values['rtsp-auth'];
  if (auth !== 'optional' && auth !== 'required') throw new Error('--rtsp-auth is optional or required');
  const clipMode = values['clip-mode'];
  if (clipMode !== 'per-camera' && clipMode !== 'shared') throw new Error('--clip-mode is per-camera or shared');
  const prewarm = values.prewarm;
  if (prewarm !== undefined && prewarm !== 'sub' && prewarm !== 'main' && prewarm !== 'both')
    throw new Error('--prewarm is sub, main or both');
  const maxEncodes = Number(values['max-encodes']);
  if (!Number.isInteger(maxEncodes) || maxEncodes < 1 || maxEncodes > 64)
    throw new Error('--max-encodes must be 1..64');
  const main = size(values['main-size']);
  const sub = size(values['sub-size']);
  const sim = await startSimulator({
    cameras: specs,
    onvifPort: Number(values['onvif-port']),
    rtspPort: Number(values['rtsp-port']),
    discoveryPort: Number(values['discovery-port']),
    discovery: !values['no-discovery'],
    clipDir: path.resolve(values['clip-dir']),
    keyframeIntervalSec: Number(values['keyframe-interval']),
    randomEvents: values['random-events'],
    rtspAuth: auth,
    clipMode,
    maxConcurrentEncodes: maxEncodes,
    ...(prewarm ? { prewarm: { stream: prewarm } } : {}),
    streamOverrides: { ...(main ? { main } : {}), ...(sub ? { sub } : {}) },
  });

  if (values.json) {
    console.log(JSON.stringify(sim.cameras, null, 2));
  } else {
    const rows = sim.cameras.map((c, i) => ({
      '#': i + 1,
      code: c.code,
      host: c.host,
      model: `${c.manufacturer} ${c.model}`,
      ptz: c.ptz ? 'PTZ' : '',
      user: c.username,
      password: c.password,
      clock: c.clockOffsetSec ? `${c.clockOffsetSec > 0 ? '+' : ''}${c.clockOffsetSec}s` : '',
      faults: Object.entries(sim.getFaults(c.code))
        .filter(([, v]) => v)
        .map(([k, v]) => (v === true ? k : `${k}=${String(v)}`))
        .join(','),
    }));
    console.table(rows);
    const first = sim.cameras[0]!;
    console.log(`ONVIF:    ${first.deviceServiceUrl}  (each camera on its own address, same port)`);
    console.log(`RTSP:     ${first.mainStreamUri}  (main)  ${first.subStreamUri}  (sub)`);
    console.log(`Snapshot: ${first.snapshotUri}`);
    console.log(`${sim.cameras.length} cameras up; clips cached in ${values['clip-dir']}. Ctrl-C to stop.`);
  }

  const timer = setInterval(async () => {
    const r = await measureResources(1000);
    const s = sim.stats();
    console.error(
      `camera-sim: online ${s.online}/${s.cameras}, rtsp sessions ${s.rtspSessions} (playing ${s.rtspPlaying}), ` +
        `cpu ${r.cpuPercent.toFixed(1)}%, rss ${r.rssMiB.toFixed(0)} MiB, ffmpeg ${s.ffmpegRunning}+${s.ffmpegQueued} queued` +
        (s.prewarmQueued || s.prewarmRunning ? `, prewarm ${s.prewarmRunning}+${s.prewarmQueued} queued` : ''),
    );
  }, 60_000);
  let stopping = false;
  const shutdown = (sig: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    console.error(`camera-sim: ${sig}, stopping`);
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (import.meta.main) {
  main().catch((e: unknown) => {
    console.error(`camera-sim: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
