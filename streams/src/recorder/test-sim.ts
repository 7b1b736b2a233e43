/**
 * What the recorder's integration tests share: a scratch directory, two simulated cameras demanding Digest
 * credentials (320x180, 10 fps, the shared clip) on a loopback block of their own, and a source proxy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { claimLoopbackBlock, type LoopbackBlock } from '../../../scripts/sim/addresses.ts';
import { startSimulator, type Simulator } from '../../../scripts/sim/index.ts';
import type { RelayInput } from '../args.ts';
import { createSourceProxy, type SourceProxy } from '../source-proxy.ts';
import { smallSimOptions } from '../test-support.ts';

export interface RecorderSim {
  base: string;
  block: LoopbackBlock;
  sim: Simulator;
  proxy: SourceProxy;
  /** Camera `i`'s main stream with its credentials. */
  cam(i: number): RelayInput;
  close(): Promise<void>;
}

export async function openRecorderSim(prefix: string): Promise<RecorderSim> {
  const base = mkdtempSync(path.join(tmpdir(), prefix));
  const block = await claimLoopbackBlock();
  const sim = await startSimulator({ ...smallSimOptions(base, block), rtspAuth: 'required' });
  const proxy = createSourceProxy();
  return {
    base,
    block,
    sim,
    proxy,
    cam: (i) => ({
      url: sim.cameras[i]!.mainStreamUri,
      credentials: { username: sim.cameras[i]!.username, password: sim.cameras[i]!.password },
      codec: 'h264',
      audio: 'none',
    }),
    async close() {
      await proxy.close();
      await sim.stop();
      await block.release();
      rmSync(base, { recursive: true, force: true });
    },
  };
}
