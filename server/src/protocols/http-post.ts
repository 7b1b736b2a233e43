import { request } from 'node:http';
import { request as requestTls } from 'node:https';

export interface PostResult {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A network failure talking to a device; `kind` separates timeouts from refusals. */
export class DeviceNetworkError extends Error {
  readonly kind: 'timeout' | 'refused' | 'too_large' | 'network';
  constructor(kind: DeviceNetworkError['kind'], message: string) {
    super(message);
    this.kind = kind;
  }
}

/**
 * POSTs to a device with a hard deadline for the whole exchange and a cap on
 * the reply size: a camera that answers slowly, endlessly or hugely costs a
 * bounded amount of time and memory.
 */
export function postXml(
  url: string,
  body: string,
  opts: { timeoutMs: number; maxBytes: number; contentType?: string; signal?: AbortSignal },
): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new DeviceNetworkError('network', `bad URL ${url}`));
      return;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      reject(new DeviceNetworkError('network', `unsupported scheme ${u.protocol}`));
      return;
    }
    const payload = Buffer.from(body, 'utf8');
    const req = (u.protocol === 'https:' ? requestTls : request)(
      u,
      {
        method: 'POST',
        headers: {
          'content-type': opts.contentType ?? 'application/soap+xml; charset=utf-8',
          'content-length': payload.length,
          connection: 'close',
        },
        // Cameras use self-signed certificates; ONVIF's own WS-Security is what authenticates.
        rejectUnauthorized: false,
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > opts.maxBytes) {
            req.destroy(new DeviceNetworkError('too_large', `reply larger than ${opts.maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(e instanceof DeviceNetworkError ? e : new DeviceNetworkError('network', e.message));
        });
      },
    );
    const timer = setTimeout(
      () => req.destroy(new DeviceNetworkError('timeout', `no complete reply within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e instanceof DeviceNetworkError) reject(e);
      else if (e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH')
        reject(new DeviceNetworkError('refused', e.message));
      else if (e.name === 'AbortError') reject(new DeviceNetworkError('timeout', 'cancelled'));
      else reject(new DeviceNetworkError('network', e.message));
    });
    req.end(payload);
  });
}
