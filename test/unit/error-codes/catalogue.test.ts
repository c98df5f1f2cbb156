/**
 * The catalogue of error codes (src/error-codes/) against the code: one casing, every entry complete,
 * every code Inlet's sources name is in it, and every code in it is named somewhere (or reserved).
 * The type checker refuses a code outside the catalogue wherever a code is typed; this reads the
 * sources themselves, so a code slipped in as a plain string is caught too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import {
  type ErrorCodeInfo,
  errorCodeSections,
  errorCodes,
  httpStatusOfCode,
} from '../../../src/error-codes/index.js';
import { s3ErrorCodes } from '../../../src/gateway/s3-codes.js';
import { ROOT } from '../docs/markdown.js';
import { type CodeUse, codeUses, type SourceText } from './code-uses.js';

const CATALOGUE_DIR = path.join(ROOT, 'src/error-codes');

function sourcesUnder(dir: string): SourceText[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .map((name) => path.join(ROOT, dir, name))
    .filter((file) => !file.startsWith(CATALOGUE_DIR + path.sep))
    .map((file) => ({ file: path.relative(ROOT, file), text: readFileSync(file, 'utf8') }));
}

const sources = [...sourcesUnder('src'), ...sourcesUnder('infra')];
const uses = codeUses(sources);
const entries = Object.entries(errorCodes) as [string, ErrorCodeInfo][];
const where = (use: CodeUse) => `${use.code} (${use.file}:${use.line})`;

describe('the error-code catalogue', () => {
  it('spells every code in lower snake_case, and every S3 code as S3 does', () => {
    expect(entries.length).toBeGreaterThan(100);
    expect(
      entries.map(([code]) => code).filter((code) => !/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(code)),
    ).toEqual([]);
    expect(Object.keys(s3ErrorCodes).filter((code) => !/^[A-Z][A-Za-z0-9]+$/.test(code))).toEqual([]);
  });

  it('gives every code a meaning, what to do, its doors, and a status that is an error status', () => {
    for (const [code, info] of entries) {
      expect(info.meaning, code).toMatch(/\S.*[.)]$/);
      expect(info.action, code).toMatch(/\S.*[.)]$/);
      expect(info.doors.length, code).toBeGreaterThan(0);
      expect(new Set(info.doors).size, code).toBe(info.doors.length);
      if (info.http !== undefined) expect(info.http >= 400 && info.http < 600, code).toBe(true);
      if (info.reserved !== undefined) expect(info.reserved, code).toMatch(/\S/);
    }
    for (const [code, info] of Object.entries(s3ErrorCodes)) {
      expect(info.status >= 400 && info.status < 600, code).toBe(true);
    }
  });

  it('has each code in one section only', () => {
    const inSections = errorCodeSections.flatMap((section) => Object.keys(section.codes));
    expect(inSections.filter((code, index) => inSections.indexOf(code) !== index)).toEqual([]);
    expect(inSections.length).toBe(entries.length);
  });

  it('keeps former names apart from the codes in use', () => {
    const former = entries.flatMap(([, info]) => info.formerly ?? []);
    expect(former.filter((old) => Object.hasOwn(errorCodes, old))).toEqual([]);
    expect(former.filter((old, index) => former.indexOf(old) !== index)).toEqual([]);
  });

  it('answers a code with the status the catalogue gives it', () => {
    expect(httpStatusOfCode('too_large')).toBe(413);
    expect(httpStatusOfCode('spool_full')).toBe(503);
    expect(httpStatusOfCode('schema_drift')).toBeUndefined();
  });
});

describe('the codes in src/ and infra/', () => {
  it('finds the codes where they are named (a sanity check of the scan itself)', () => {
    const found = new Set(uses.map((use) => use.code));
    for (const code of ['schema_drift', 'too_many_rejects', 'db_unreachable', 'spool_full', 'NoSuchKey']) {
      expect(found.has(code), code).toBe(true);
    }
  });

  it('are all in the catalogue (or, for the gateway, among S3 codes)', () => {
    const unknown = uses.filter((use) =>
      use.kind === 's3' ? !Object.hasOwn(s3ErrorCodes, use.code) : !Object.hasOwn(errorCodes, use.code),
    );
    expect(unknown.map(where)).toEqual([]);
  });

  it('use every code of the catalogue that is not reserved, and none that is', () => {
    const used = new Set(uses.filter((use) => use.kind === 'inlet').map((use) => use.code));
    expect(
      entries.filter(([code, info]) => info.reserved === undefined && !used.has(code)).map(([c]) => c),
    ).toEqual([]);
    expect(
      entries.filter(([code, info]) => info.reserved !== undefined && used.has(code)).map(([c]) => c),
    ).toEqual([]);
  });

  it('use every S3 code the gateway documents', () => {
    const used = new Set(uses.filter((use) => use.kind === 's3').map((use) => use.code));
    expect(Object.keys(s3ErrorCodes).filter((code) => !used.has(code))).toEqual([]);
  });
});

/** Classes that extend Error itself rather than InletError, and why each may. */
const PLAIN_ERRORS: Readonly<Record<string, string>> = {
  InletError: 'the base class itself',
  SheetXmlError: 'the XLSX sheet scanner throws it to its one caller, which rethrows it as corrupt_xlsx',
  Replayed: 'control flow inside the upload route: a replayed Idempotency-Key; it never leaves the route',
  Refused:
    'control flow inside an SFTP session (src/server/sftp/session.ts): answered as an SFTP status and a log line; it never leaves the session',
  WriteRefused:
    'an SFTP write the session refuses (src/server/sftp/inbound-write.ts): answered as an SFTP status; it never leaves the session',
  StagedUploadError:
    'a file under a temporary name the SFTP session refuses (src/server/sftp/staged-uploads.ts): answered as an SFTP status; it never leaves the session',
  SmokeError:
    "npm run smoke's text for its report (a table cell, or a line on stderr): the script's outcome is its exit code",
};

describe('error classes', () => {
  it('extend InletError, but for the internal signals listed here', () => {
    const plain: string[] = [];
    for (const { file, text } of sources) {
      const visit = (node: ts.Node): void => {
        if (ts.isClassDeclaration(node) && node.name !== undefined) {
          const base = node.heritageClauses?.[0]?.types[0]?.expression.getText();
          if (base !== undefined && /^(Error|TypeError|RangeError)$/.test(base)) {
            plain.push(`${node.name.text} (${file})`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
    }
    expect(plain.filter((entry) => !Object.hasOwn(PLAIN_ERRORS, entry.split(' ')[0] ?? ''))).toEqual([]);
  });
});

describe('codeUses', () => {
  const scan = (text: string) =>
    codeUses([{ file: 'probe.ts', text }]).map((use) => `${use.kind}:${use.code}`);

  it('finds a code passed for a parameter typed ErrorCode, through subclasses and helpers', () => {
    const text = `
      class InletError extends Error { constructor(code: ErrorCode, message: string) { super(message); } }
      class FormatError extends InletError {}
      class Drift extends FormatError { constructor(message: string) { super('drift_code', message); } }
      function helper(code: ErrorCode, message: string) { return new FormatError(code, message); }
      function other(code: string) { return code; }
      new FormatError(flag ? 'A_CODE' : 'b_code', 'x');
      helper('helper_code', 'x');
      other('not a code');
      class S3Error extends InletError { constructor(s3Code: S3ErrorCode, message: string) { super('s3_error', message); } }
      new S3Error('NoSuchThing', 'x');
    `;
    expect(scan(text).sort()).toEqual(
      [
        'inlet:A_CODE',
        'inlet:b_code',
        'inlet:drift_code',
        'inlet:helper_code',
        'inlet:s3_error',
        's3:NoSuchThing',
      ].sort(),
    );
  });

  it("finds codes in code properties, typed declarations and returns, and leaves zod's and Node's alone", () => {
    const text = `
      type Refusal = Extract<HttpErrorCode, 'x'>;
      function refuse(code: Refusal) { return code; }
      refuse('refused_code');
      const report = { code: 'property_code', message: 'x' };
      const typed: ErrorCode = 'declared_code';
      function pick(): ErrorCode { return 'returned_code'; }
      const table = { a: 'table_code' } as const satisfies Record<string, ErrorCode>;
      ctx.addIssue({ code: 'custom', message: 'x' });
      Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    `;
    expect(scan(text).sort()).toEqual(
      [
        'inlet:declared_code',
        'inlet:property_code',
        'inlet:refused_code',
        'inlet:returned_code',
        'inlet:table_code',
      ].sort(),
    );
  });
});
