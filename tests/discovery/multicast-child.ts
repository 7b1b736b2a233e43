/**
 * Runs inside a network namespace made by multicast.test.ts: starts a few
 * simulated cameras listening for WS-Discovery multicast on the namespace's
 * loopback, probes by multicast with the server's client, prints the matches
 * as JSON on stdout. Never run outside such a namespace (the simulator refuses).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultCameraSpecs, startSimulator } from '../../scripts/sim/index.ts';
import { probeMulticast } from '../../server/src/protocols/ws-discovery.ts';

const sim = await startSimulator({
  cameras: defaultCameraSpecs(4, { firstIp: '127.0.80.1', seed: 3 }),
  clipDir: mkdtempSync(path.join(tmpdir(), 'ccc-sim-')),
  multicastInterface: '127.0.0.1',
});
try {
  const matches = await probeMulticast('127.0.0.1', { timeoutMs: 1500 });
  process.stdout.write(JSON.stringify({ expected: sim.cameras.map((c) => c.deviceServiceUrl), matches }) + '\n');
} finally {
  await sim.stop();
}
