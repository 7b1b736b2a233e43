/**
 * Minimal SOAP helpers. The simulator controls both sides in tests, so requests are read by
 * extraction, not a full XML parser: nothing is ever expanded (no DTDs, no entities beyond the five
 * predefined ones), and a request carrying a DOCTYPE is refused outright.
 */

export const NS = {
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  timg: 'http://www.onvif.org/ver20/imaging/wsdl',
  trc: 'http://www.onvif.org/ver10/recording/wsdl',
  tse: 'http://www.onvif.org/ver10/search/wsdl',
  trp: 'http://www.onvif.org/ver10/replay/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  ter: 'http://www.onvif.org/ver10/error',
  wsa: 'http://www.w3.org/2005/08/addressing',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wsrf: 'http://docs.oasis-open.org/wsrf/bf-2',
  wstop: 'http://docs.oasis-open.org/wsn/t-1',
  tns1: 'http://www.onvif.org/ver10/topics',
  xsd: 'http://www.w3.org/2001/XMLSchema',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

export type SoapVersion = '1.1' | '1.2';

export function esc(s: string | number | boolean): string {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function unesc(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp|#\d{1,7}|#x[0-9a-fA-F]{1,6});/g, (_m, e: string) => {
    switch (e) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      case 'amp':
        return '&';
      default: {
        const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
      }
    }
  });
}

const NAME = '[A-Za-z_][\\w.-]*';

/** Text of the first element with this local name (any prefix), entity-decoded; undefined when absent. */
export function childText(xml: string, local: string): string | undefined {
  const re = new RegExp(`<(?:${NAME}:)?${local}(?:\\s[^>]*)?>([^<]*)</(?:${NAME}:)?${local}\\s*>`);
  const m = re.exec(xml);
  return m ? unesc(m[1]!).trim() : undefined;
}

/** Inner XML of the first element with this local name (any prefix). */
export function childXml(xml: string, local: string): string | undefined {
  const open = new RegExp(`<(?:(${NAME}):)?${local}(?:\\s[^>]*)?(/?)>`).exec(xml);
  if (!open) return undefined;
  if (open[2] === '/') return '';
  const start = open.index + open[0].length;
  const close = new RegExp(`</(?:${NAME}:)?${local}\\s*>`, 'g');
  close.lastIndex = start;
  const c = close.exec(xml);
  return c ? xml.slice(start, c.index) : undefined;
}

/** Value of an attribute on the first element with this local name. */
export function attrOf(xml: string, local: string, attr: string): string | undefined {
  const tag = new RegExp(`<(?:${NAME}:)?${local}(\\s[^>]*)?/?>`).exec(xml);
  if (!tag || !tag[1]) return undefined;
  const a = new RegExp(`(?:^|\\s)(?:${NAME}:)?${attr}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(tag[1]);
  return a ? unesc(a[2] ?? a[3] ?? '') : undefined;
}

export interface SoapRequest {
  version: SoapVersion;
  /** Local name of the first element in the Body: the operation. */
  op: string;
  header: string;
  body: string;
}

export function parseSoapRequest(text: string): SoapRequest | { error: string } {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) return { error: 'DTDs are not accepted' };
  const env = new RegExp(`<(?:(${NAME}):)?Envelope\\b([^>]*)>`).exec(text);
  if (!env) return { error: 'no SOAP Envelope' };
  const version: SoapVersion = text.includes(NS.soap11) && !text.includes(NS.soap12) ? '1.1' : '1.2';
  const header = childXml(text, 'Header') ?? '';
  const body = childXml(text, 'Body');
  if (body === undefined) return { error: 'no SOAP Body' };
  const first = new RegExp(`^(?:\\s|<!--[\\s\\S]*?-->|<\\?[\\s\\S]*?\\?>)*<(?:${NAME}:)?(${NAME})`).exec(body);
  if (!first) return { error: 'empty SOAP Body' };
  return { version, op: first[1]!, header, body };
}

const ENV_NS = Object.entries(NS)
  .filter(([k]) => k !== 'soap11' && k !== 'soap12')
  .map(([k, v]) => ` xmlns:${k}="${v}"`)
  .join('');

export function envelope(version: SoapVersion, body: string, header = ''): string {
  const envNs = version === '1.1' ? NS.soap11 : NS.soap12;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<env:Envelope xmlns:env="${envNs}"${ENV_NS}>` +
    (header ? `<env:Header>${header}</env:Header>` : '') +
    `<env:Body>${body}</env:Body></env:Envelope>`
  );
}

export interface SoapFault {
  httpStatus: number;
  code: 'Sender' | 'Receiver';
  /** e.g. ['ter:InvalidArgVal', 'ter:NoProfile'] */
  subcodes: string[];
  reason: string;
}

export function faultBody(version: SoapVersion, f: SoapFault): string {
  if (version === '1.1') {
    const code = f.subcodes[f.subcodes.length - 1] ?? (f.code === 'Sender' ? 'env:Client' : 'env:Server');
    return `<env:Fault><faultcode>${esc(code)}</faultcode><faultstring>${esc(f.reason)}</faultstring></env:Fault>`;
  }
  let sub = '';
  for (let i = f.subcodes.length - 1; i >= 0; i--) {
    sub = `<env:Subcode><env:Value>${esc(f.subcodes[i]!)}</env:Value>${sub}</env:Subcode>`;
  }
  return (
    `<env:Fault><env:Code><env:Value>env:${f.code}</env:Value>${sub}</env:Code>` +
    `<env:Reason><env:Text xml:lang="en">${esc(f.reason)}</env:Text></env:Reason></env:Fault>`
  );
}

export const FAULTS = {
  notAuthorized: (): SoapFault => ({
    // ONVIF Core 5.12: a WS-Security failure answers HTTP 400 with ter:NotAuthorized.
    httpStatus: 400,
    code: 'Sender',
    subcodes: ['ter:NotAuthorized'],
    reason: 'Sender not Authorized',
  }),
  actionNotSupported: (op: string): SoapFault => ({
    httpStatus: 500,
    code: 'Receiver',
    subcodes: ['ter:ActionNotSupported'],
    reason: `Optional Action Not Implemented: ${op}`,
  }),
  wellFormed: (why: string): SoapFault => ({
    httpStatus: 400,
    code: 'Sender',
    subcodes: ['ter:WellFormed'],
    reason: `XML Well-formed violation: ${why}`,
  }),
  invalidArg: (sub: string, reason: string): SoapFault => ({
    httpStatus: 400,
    code: 'Sender',
    subcodes: ['ter:InvalidArgVal', sub],
    reason,
  }),
  receiver: (sub: string, reason: string): SoapFault => ({
    httpStatus: 500,
    code: 'Receiver',
    subcodes: ['ter:Action', sub],
    reason,
  }),
};

/** ISO 8601 duration (PT1M, PT10S, PT1H2M3.5S, P1D) to milliseconds; undefined when unreadable. */
export function parseDurationMs(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(s.trim());
  if (!m || s.trim() === 'P' || s.trim() === 'PT') return undefined;
  const [, d, h, mi, sec] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 3600 + Number(mi ?? 0) * 60 + Number(sec ?? 0)) * 1000;
}

/** UTC ISO time without milliseconds, the way most cameras print it. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
