/**
 * Simulators the integration and browser tests share.
 */
import path from 'node:path';
import type { LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import type { SimCameraSpec } from '../../scripts/sim/types.ts';

/**
 * A simulator of `count` small cameras (320×180, 10 fps, clocks right) on the loopback block, for playback
 * tests: the recorded time is burnt into each picture (readVideoClock reads it back). `spec` adjusts each one.
 */
export function startPlaybackSimulator(opts: {
  count: number;
  seed: number;
  block: LoopbackBlock;
  dir: string;
  spec?: (s: SimCameraSpec, i: number) => SimCameraSpec;
}): Promise<Simulator> {
  const adjust = opts.spec ?? ((s: SimCameraSpec) => s);
  return startSimulator({
    cameras: defaultCameraSpecs(opts.count, { firstIp: opts.block.host(1), seed: opts.seed }).map((s, i) =>
      adjust({ ...s, clockOffsetSec: 0 }, i),
    ),
    clipDir: path.join(opts.dir, 'clips'),
    onvifPort: 0,
    rtspPort: 0,
    discovery: false,
    clipMode: 'shared',
    streamOverrides: { main: { width: 320, height: 180, fps: 10 }, sub: { width: 320, height: 180, fps: 10 } },
    log: () => undefined,
  });
}
