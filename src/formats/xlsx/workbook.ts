/**
 * The parts of an XLSX workbook (ECMA-376 SpreadsheetML) read before its sheet: which sheets exist and
 * where, the date system, the number formats that make numbers dates, and the shared strings.
 * The small parts are parsed with saxes, the shared strings with the sheet's byte scanner, all as
 * they are inflated; none is held as XML text.
 */
import { posix } from 'node:path';
import { SaxesParser, type SaxesTag } from 'saxes';
import { FormatError } from '../../errors.js';
import type { ArchiveEntry, ZipArchive } from '../zip/archive.js';
import { builtInFormatKind, customFormatKind, type DateSystem, type FormatKind } from './dates.js';
import { SharedStrings } from './shared-strings.js';
import { SharedStringsScanner, SheetXmlError } from './sheet-scanner.js';

export interface SheetInfo {
  readonly name: string;
  /** The sheet part in the archive, e.g. `xl/worksheets/sheet1.xml`. */
  readonly part: string;
}

export interface Workbook {
  readonly sheets: readonly SheetInfo[];
  readonly dateSystem: DateSystem;
  /** What each cell style (the `s` attribute, an index into cellXfs) shows numbers as. */
  readonly styles: readonly FormatKind[];
  readonly sharedStrings: SharedStrings;
}

const OFFICE_DOCUMENT = /\/officeDocument$/;
const SHARED_STRINGS = /\/sharedStrings$/;
const STYLES = /\/styles$/;

export function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

interface XmlHandlers {
  open?(name: string, attributes: Record<string, string>): void;
  close?(name: string): void;
  text?(text: string): void;
}

/** Parses an archive entry's XML as it is inflated, calling `handlers` for every element. */
async function parseXml(
  archive: ZipArchive,
  entry: ArchiveEntry,
  handlers: XmlHandlers,
  what: string,
  source: string,
): Promise<void> {
  const parser = new SaxesParser({ position: false, xmlns: false });
  let failure: Error | undefined;
  parser.on('error', (error) => {
    failure ??= error;
  });
  if (handlers.open) {
    const open = handlers.open;
    parser.on('opentag', (tag: SaxesTag) =>
      open(localName(tag.name), tag.attributes as Record<string, string>),
    );
  }
  if (handlers.close) {
    const close = handlers.close;
    parser.on('closetag', (tag: SaxesTag) => close(localName(tag.name)));
  }
  if (handlers.text) {
    const text = handlers.text;
    parser.on('text', text);
    parser.on('cdata', text);
  }
  const decoder = new TextDecoder('utf-8', { fatal: false });
  try {
    for await (const chunk of archive.stream(entry)) {
      parser.write(decoder.decode(chunk, { stream: true }));
      if (failure) throw failure;
    }
    parser.write(decoder.decode());
    parser.close();
    if (failure) throw failure;
  } catch (error) {
    if (error instanceof FormatError) throw error;
    throw new FormatError(
      'corrupt_xlsx',
      `The XLSX workbook is damaged: its ${what} is not valid XML (${(error as Error).message}). Send the file again.`,
      { cause: error, location: { source } },
    );
  }
}

function required(archive: ZipArchive, part: string, source: string): ArchiveEntry {
  const entry = archive.entries.get(part);
  if (entry === undefined) {
    throw new FormatError(
      'corrupt_xlsx',
      `Not a readable XLSX workbook: the part "${part}" is missing. Save the file again from Excel (as .xlsx), or export it as CSV.`,
      { location: { source } },
    );
  }
  return entry;
}

/** Relationship targets are relative to the part's folder, or absolute from the archive root. */
function resolveTarget(base: string, target: string): string {
  if (target.startsWith('/')) return target.slice(1);
  return posix.normalize(posix.join(posix.dirname(base), target));
}

async function relationships(
  archive: ZipArchive,
  part: string,
  source: string,
): Promise<{ id: string; type: string; target: string }[]> {
  const relsPart = posix.join(posix.dirname(part), '_rels', `${posix.basename(part)}.rels`);
  const entry = archive.entries.get(relsPart);
  if (entry === undefined) return [];
  const found: { id: string; type: string; target: string }[] = [];
  await parseXml(
    archive,
    entry,
    {
      open(name, attributes) {
        if (
          name === 'Relationship' &&
          attributes.Target !== undefined &&
          attributes.TargetMode !== 'External'
        ) {
          found.push({
            id: attributes.Id ?? '',
            type: attributes.Type ?? '',
            target: resolveTarget(part, attributes.Target),
          });
        }
      },
    },
    relsPart,
    source,
  );
  return found;
}

export async function readWorkbook(archive: ZipArchive, source: string): Promise<Workbook> {
  if (!archive.entries.has('[Content_Types].xml')) {
    throw new FormatError(
      'not_xlsx',
      'Not an XLSX workbook: the zip archive has no [Content_Types].xml. Send an .xlsx file saved by a spreadsheet program, or zip a single CSV instead.',
      { location: { source } },
    );
  }
  const rootRels = await relationships(archive, '', source);
  const workbookPart = rootRels.find((r) => OFFICE_DOCUMENT.test(r.type))?.target ?? 'xl/workbook.xml';
  const sheetRefs: { name: string; id: string }[] = [];
  let dateSystem: DateSystem = 1900;
  await parseXml(
    archive,
    required(archive, workbookPart, source),
    {
      open(name, attributes) {
        if (name === 'workbookPr') {
          const flag = attributes.date1904;
          if (flag === '1' || flag === 'true') dateSystem = 1904;
        } else if (name === 'sheet') {
          const id =
            attributes['r:id'] ??
            Object.entries(attributes).find(([key]) => localName(key) === 'id')?.[1] ??
            '';
          sheetRefs.push({ name: attributes.name ?? '', id });
        }
      },
    },
    'workbook',
    source,
  );
  const rels = await relationships(archive, workbookPart, source);
  const byId = new Map(rels.map((r) => [r.id, r.target]));
  const sheets = sheetRefs.flatMap((ref) => {
    const part = byId.get(ref.id);
    return part === undefined ? [] : [{ name: ref.name, part }];
  });
  const stylesPart = rels.find((r) => STYLES.test(r.type))?.target;
  const stringsPart = rels.find((r) => SHARED_STRINGS.test(r.type))?.target;
  // Read side by side: the shared strings' inflating (on zlib's thread) overlaps the styles' parsing.
  const [styles, sharedStrings] = await Promise.all([
    stylesPart && archive.entries.has(stylesPart) ? readStyles(archive, stylesPart, source) : [],
    stringsPart && archive.entries.has(stringsPart)
      ? readSharedStrings(archive, stringsPart, source)
      : SharedStrings.of([]),
  ]);
  return { sheets, dateSystem, styles, sharedStrings };
}

async function readStyles(archive: ZipArchive, part: string, source: string): Promise<FormatKind[]> {
  const custom = new Map<number, FormatKind>();
  const styles: FormatKind[] = [];
  let inCellXfs = false;
  await parseXml(
    archive,
    required(archive, part, source),
    {
      open(name, attributes) {
        if (name === 'numFmt')
          custom.set(Number(attributes.numFmtId), customFormatKind(attributes.formatCode ?? ''));
        else if (name === 'cellXfs') inCellXfs = true;
        else if (name === 'xf' && inCellXfs) {
          const id = Number(attributes.numFmtId ?? 0);
          styles.push(custom.get(id) ?? builtInFormatKind(id));
        }
      },
      close(name) {
        if (name === 'cellXfs') inCellXfs = false;
      },
    },
    'styles',
    source,
  );
  return styles;
}

/**
 * Shared strings: the text of each `<si>` as a UTF-8 table (shared-strings.ts), read by the sheet's
 * byte scanner (a workbook's shared strings can be as large as its sheet, and saxes spent most of
 * their reading on decoding and events).
 */
async function readSharedStrings(archive: ZipArchive, part: string, source: string): Promise<SharedStrings> {
  const scanner = new SharedStringsScanner();
  try {
    for await (const chunk of archive.stream(required(archive, part, source))) scanner.write(chunk);
    scanner.end();
  } catch (error) {
    if (!(error instanceof SheetXmlError)) throw error;
    throw new FormatError(
      'corrupt_xlsx',
      `The XLSX workbook is damaged: its shared strings are not valid XML (${error.message}). Send the file again.`,
      { cause: error, location: { source } },
    );
  }
  return scanner.table();
}
