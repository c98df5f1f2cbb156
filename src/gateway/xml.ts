import { XMLParser } from 'fast-xml-parser';
import { s3Errors } from './errors.js';

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** Escapes text for an XML element; characters XML 1.0 cannot carry at all become numeric references S3-style. */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#x${c.charCodeAt(0).toString(16)};`;
    }
  });
}

export type XmlValue = string | number | boolean | XmlNode | XmlValue[] | undefined;
export interface XmlNode {
  [name: string]: XmlValue;
}

function render(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => render(name, v)).join('');
  if (typeof value === 'object') {
    const inner = Object.entries(value)
      .map(([k, v]) => render(k, v))
      .join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** Renders a response document; arrays repeat their element, undefined fields are left out. */
export function xmlDocument(root: string, body: XmlNode, namespaced = true): string {
  const inner = Object.entries(body)
    .map(([k, v]) => render(k, v))
    .join('');
  const attrs = namespaced ? ` xmlns="${XMLNS}"` : '';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${attrs}>${inner}</${root}>`;
}

// Values stay strings: part numbers are validated by hand, and a key like "007" must not become 7.
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  isArray: (name) => name === 'Part' || name === 'Object' || name === 'Tag',
});

function parse(xml: string): Record<string, unknown> {
  try {
    const doc = parser.parse(xml, true) as unknown;
    if (typeof doc !== 'object' || doc === null) throw s3Errors.malformedXml();
    return doc as Record<string, unknown>;
  } catch (err) {
    if (err instanceof Error && err.name === 'S3Error') throw err;
    throw s3Errors.malformedXml();
  }
}

function child(node: unknown, name: string): unknown {
  return typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[name] : undefined;
}

function text(node: unknown): string | undefined {
  if (typeof node === 'string') return node;
  // An element with only whitespace-text siblings parses to an object; an empty element to ''.
  return undefined;
}

function list(node: unknown): unknown[] {
  return Array.isArray(node) ? node : node === undefined ? [] : [node];
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

export function parseCompleteMultipartUpload(xml: string): CompletedPart[] {
  const root = child(parse(xml), 'CompleteMultipartUpload');
  if (root === undefined) throw s3Errors.malformedXml();
  return list(child(root, 'Part')).map((part) => {
    const num = text(child(part, 'PartNumber'))?.trim();
    const etag = text(child(part, 'ETag'))?.trim();
    if (num === undefined || etag === undefined || !/^\d+$/.test(num)) throw s3Errors.malformedXml();
    return { partNumber: Number(num), etag: etag.replace(/^"|"$/g, '') };
  });
}

export interface DeleteRequest {
  quiet: boolean;
  keys: string[];
}

export function parseDeleteObjects(xml: string): DeleteRequest {
  const root = child(parse(xml), 'Delete');
  if (root === undefined) throw s3Errors.malformedXml();
  const keys = list(child(root, 'Object')).map((obj) => {
    const key = text(child(obj, 'Key'));
    if (key === undefined) throw s3Errors.malformedXml();
    return key;
  });
  if (keys.length > 1000) throw s3Errors.malformedXml();
  return { quiet: text(child(root, 'Quiet'))?.trim().toLowerCase() === 'true', keys };
}

export function parseTagging(xml: string): Record<string, string> {
  const root = child(parse(xml), 'Tagging');
  const tags: Record<string, string> = {};
  for (const tag of list(child(child(root, 'TagSet'), 'Tag'))) {
    const key = text(child(tag, 'Key'));
    const value = text(child(tag, 'Value')) ?? '';
    if (key === undefined) throw s3Errors.malformedXml();
    tags[key] = value;
  }
  if (Object.keys(tags).length > 10) throw s3Errors.invalidArgument('Object tags cannot be greater than 10');
  return tags;
}
