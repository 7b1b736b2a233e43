import { z } from 'zod';
import { cameraCreateSchema, plainText } from '../cameras/schema.ts';
import { safeText, secretText } from '../http/text.ts';

const port = z.number().int().min(1).max(65535);
const credentials = z
  .array(
    z
      .object({
        username: plainText(64),
        password: secretText({ max: 128 }),
      })
      .strict(),
  )
  .max(5, 'at most 5 credential pairs')
  .default([]);

export const scanRequestSchema = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('unicast'),
      ranges: z
        .array(safeText({ max: 64 }))
        .min(1, 'give at least one address range')
        .max(32),
      wsdPorts: z.array(port).min(1).max(4).default([3702]),
      httpPorts: z.array(port).max(8).default([]),
      credentials,
    })
    .strict(),
  z.object({ mode: z.literal('multicast'), interface: safeText({ max: 64 }), credentials }).strict(),
  z.object({ mode: z.literal('manual'), address: safeText({ max: 300 }), credentials }).strict(),
]);
export type ScanRequestInput = z.output<typeof scanRequestSchema>;

export const confirmSchema = cameraCreateSchema
  .pick({
    name: true,
    networkId: true,
    orgUnitId: true,
    position: true,
    code: true,
    address: true,
    direction: true,
    fov: true,
  })
  .strict();
export type ConfirmInput = z.output<typeof confirmSchema>;

/** `host`, `host:port` or a device-service URL → the device-service URL. */
export function manualXAddr(address: string): string | null {
  const a = address.trim();
  if (/^https?:\/\//i.test(a)) {
    try {
      const u = new URL(a);
      if (!u.hostname) return null;
      if (u.pathname === '/' || u.pathname === '') u.pathname = '/onvif/device_service';
      return u.toString();
    } catch {
      return null;
    }
  }
  const m = /^([A-Za-z0-9.-]{1,253}|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?$/.exec(a);
  if (!m) return null;
  const p = m[2] ? Number(m[2]) : 80;
  if (p < 1 || p > 65535) return null;
  return `http://${m[1]}${p === 80 ? '' : `:${p}`}/onvif/device_service`;
}
