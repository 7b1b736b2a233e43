import { XMLParser } from 'fast-xml-parser';

/** A device reply that is not usable XML; the message says why. */
export class XmlError extends Error {}

export type XmlNode = string | XmlObject | XmlNode[];
export interface XmlObject {
  [key: string]: XmlNode | undefined;
}

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  // Only the five predefined XML entities; DTDs are refused before parsing.
  processEntities: true,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
});

/**
 * Parses XML from a device, treated as hostile: size-capped, and any DTD is
 * refused outright (SOAP 1.2 forbids them), which rules out XXE and entity
 * expansion bombs. Namespace prefixes are dropped: vendors disagree on them.
 */
export function parseXml(text: string, maxBytes = 1024 * 1024): XmlObject {
  if (text.length > maxBytes) throw new XmlError(`reply larger than ${maxBytes} bytes`);
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new XmlError('reply contains a DTD or entity declaration');
  if (!/^\s*(<\?xml[^>]*>\s*)?</.test(text)) throw new XmlError('reply is not XML');
  let doc: unknown;
  try {
    doc = parser.parse(text, true);
  } catch (err) {
    throw new XmlError(`malformed XML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new XmlError('reply is not an XML document');
  return doc as XmlObject;
}

/** Follows a path of element names; arrays take their first element. */
export function at(node: XmlNode | undefined, ...path: string[]): XmlNode | undefined {
  let cur: XmlNode | undefined = node;
  for (const key of path) {
    const node: XmlNode | undefined = Array.isArray(cur) ? cur[0] : cur;
    if (node === undefined || typeof node === 'string' || Array.isArray(node)) return undefined;
    cur = node[key];
  }
  return cur;
}

/** Text content of a node (a plain string, or `#text` beside attributes). */
export function text(node: XmlNode | undefined): string | undefined {
  if (Array.isArray(node)) return text(node[0]);
  if (typeof node === 'string') return node;
  if (node && typeof node === 'object') {
    const t = node['#text'];
    return typeof t === 'string' ? t : undefined;
  }
  return undefined;
}

export function attr(node: XmlNode | undefined, name: string): string | undefined {
  if (Array.isArray(node)) return attr(node[0], name);
  if (node && typeof node === 'object') {
    const v = node[`@${name}`];
    return typeof v === 'string' ? v : undefined;
  }
  return undefined;
}

export function list(node: XmlNode | undefined): XmlNode[] {
  if (node === undefined) return [];
  return Array.isArray(node) ? node : [node];
}

/** Escapes text for inclusion in XML we send. */
export function escapeXml(s: string): string {
  return s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );
}
