/**
 * Multicast WS-Discovery check, to be run ONLY inside a throwaway network namespace whose sole
 * interface is loopback (the test starts it with `unshare -n`). Starts a few cameras with multicast
 * enabled, sends one Probe to 239.255.255.250:3702 on lo, prints the XAddrs that answered as JSON.
 */
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WSD_MULTICAST, multicastSandbox, probeXml } from './discovery.ts';
import { defaultCameraSpecs, startSimulator } from './index.ts';

const sandbox = multicastSandbox();
if (!sandbox.ok) {
  console.error(`refusing to send multicast: ${sandbox.why}`);
  process.exit(2);
}
const count = Number(process.argv[2] ?? 3);
const clipDir = mkdtempSync(path.join(tmpdir(), 'sim-mcast-'));
const sim = await startSimulator({
  cameras: defaultCameraSpecs(count),
  clipDir,
  multicastInterface: '127.0.0.1',
  log: () => undefined,
});
const client = createSocket('udp4');
const xaddrs: string[] = [];
client.on('message', (m) => {
  const x = /<d:XAddrs>([^<]+)<\/d:XAddrs>/.exec(m.toString('utf8'));
  if (x) xaddrs.push(x[1]!);
});
await new Promise<void>((r) => client.bind({ address: '127.0.0.1', port: 0 }, () => r()));
client.setMulticastInterface('127.0.0.1');
client.send(Buffer.from(probeXml(`urn:uuid:${randomUUID()}`)), 3702, WSD_MULTICAST);
await new Promise((r) => setTimeout(r, 1000));
client.close();
await sim.stop();
rmSync(clipDir, { recursive: true, force: true });
console.log(JSON.stringify({ xaddrs: xaddrs.sort(), expected: sim.cameras.map((c) => c.deviceServiceUrl).sort() }));
