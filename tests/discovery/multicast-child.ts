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

// A fixed address on purpose (issue 12): this process runs in a network namespace of its own, whose loopback
// no demo and no other run shares (the simulator refuses multicast anywhere else), so nothing can answer here
// but these cameras. A block claimed with claimLoopbackBlock would be a claim in this namespace only: it would
// guard against nothing.
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
