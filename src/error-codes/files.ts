import { type ErrorCodeInfo, type ErrorCodeSection, INGESTING_DOORS } from './entry.js';

const doors = INGESTING_DOORS;

/** Why a file was refused: its bytes, its format or its rows. Nothing of it was loaded. */
export const fileCodes = {
  title: 'Files Inlet refuses',
  intro:
    'The file itself is at fault: its ingestion ends `rejected` (`inlet ingest` exits 1, the ledger row holds the ' +
    'code in `error_code`, `GET /v1/ingestions/{id}` in `error.code`) and nothing of it is loaded. Sending the ' +
    'same bytes again gives the same verdict; send a corrected file. The message says where (file, line, ' +
    'record, column) when that is known.',
  codes: {
    empty_file: {
      meaning: 'The file is empty (0 bytes), or has no header row and no data, or its sheet has no rows.',
      action: 'Send the file with its rows: an empty export usually means the export itself failed.',
      doors,
    },
    not_tabular: {
      meaning:
        "The content is not one of the formats Inlet reads (binary data, an image, an archive), or it is not the pipeline's format (text named .parquet or .xlsx).",
      action:
        'Check that the right file was sent. Inlet reads CSV, TSV, NDJSON, JSON, Parquet and XLSX, plain or compressed with gzip, deflate, brotli or zip.',
      doors,
    },
    invalid_option: {
      meaning: 'A CSV option of the pipeline (delimiter, quote, escape) is not one ASCII character.',
      action: 'Fix the option in inlet.config.yaml (`inlet validate` checks the config).',
      doors,
    },
    invalid_utf8: {
      meaning: 'A JSON element is not valid UTF-8.',
      action: 'Export the file as UTF-8.',
      doors,
    },
    invalid_utf16: {
      meaning:
        'The file starts with a UTF-16 byte order mark, or the pipeline declares `csv.encoding: utf16le` or `utf16be`, but holds bytes that are not UTF-16 text: half a surrogate pair, or an odd number of bytes.',
      action:
        'Re-export the file (Excel: "CSV UTF-8" or "Unicode text"), or set `csv.encoding` to the encoding it is really in.',
      doors,
    },
    invalid_json: {
      meaning:
        'The JSON or NDJSON file is not valid JSON at the line the message names: a syntax error, a trailing comma, a truncated document, or several values where one array was expected.',
      action:
        'Fix the element at that line; a file with one JSON value per line is NDJSON (`format: ndjson`).',
      doors,
    },
    row_too_large: {
      meaning: 'A CSV row is longer than Inlet accepts; this is almost always a quote that is never closed.',
      action: 'Check the quoting around the line the message names.',
      doors,
    },
    record_too_large: {
      meaning: 'A JSON record is larger than `maxRecordBytes`.',
      action: 'Split it into smaller records, or raise `maxRecordBytes` if such records are expected.',
      doors,
    },
    corrupt_gzip: {
      meaning: 'The gzip data is corrupt or ends early (truncated).',
      action: 'Send the complete file again, or send it uncompressed.',
      doors,
    },
    corrupt_deflate: {
      meaning: 'The deflate (zlib) data is corrupt or ends early (truncated).',
      action: 'Send the complete file again, or send it uncompressed.',
      doors,
    },
    corrupt_brotli: {
      meaning: 'The brotli data is corrupt or ends early (truncated).',
      action: 'Send the complete file again, or send it uncompressed.',
      doors,
    },
    corrupt_zip: {
      meaning:
        'The zip archive (a zipped file, or an XLSX workbook) is damaged or truncated: a CRC or size check fails, or it ends early.',
      action: 'Send the complete file again.',
      doors,
    },
    not_zip: {
      meaning: 'The file starts like a zip archive, but its first entry header is not one.',
      action: 'Send the file again; check that it was zipped by an ordinary zip tool.',
      doors,
    },
    zip_several_entries: {
      meaning: 'The zip archive holds more than one file; Inlet loads a zip of exactly one file.',
      action: 'Send one file per archive.',
      doors,
    },
    zip_not_single_file: {
      meaning:
        "The zip archive's entry is a folder, has a path, or has an empty or unusable name; Inlet accepts one file at the top of the archive.",
      action: 'Zip the file itself, without folders.',
      doors,
    },
    zip_too_many_entries: {
      meaning: 'The archive (usually an XLSX workbook) lists more parts than Inlet accepts.',
      action: 'Send a smaller workbook, or export the sheet as CSV.',
      doors,
    },
    zip_encrypted: {
      meaning: 'The zip entry is encrypted (password-protected).',
      action: 'Send it without a password.',
      doors,
    },
    zip_unsupported: {
      meaning:
        'The zip entry uses a compression method or layout Inlet does not read (not deflate, or stored and streamed without its size).',
      action: 'Zip it with ordinary deflate compression, or send it gzip-compressed.',
      doors,
    },
    decompressed_too_large: {
      meaning:
        'The file expands past `limits.maxDecompressedBytes` when decompressed (or a Parquet file declares more).',
      action:
        'It may be a compression bomb; if the file is genuine, raise `limits.maxDecompressedBytes` for the pipeline.',
      doors,
    },
    compression_ratio: {
      meaning:
        'The file expands more than `limits.maxCompressionRatio` times its compressed size: a likely compression bomb.',
      action: 'If the file is genuine, raise `limits.maxCompressionRatio` for the pipeline.',
      doors,
    },
    truncated_file: {
      meaning:
        'The file ends before a byte its own index points to (a Parquet footer or an XLSX directory): it is truncated.',
      action: 'Send the complete file again.',
      doors,
    },
    corrupt_parquet: {
      meaning: 'The Parquet file is truncated or damaged.',
      action: 'Send the complete file again.',
      doors,
    },
    unsupported_parquet: {
      meaning: 'The Parquet file keeps its data in other files (column chunks with `file_path`).',
      action: 'Send a self-contained Parquet file.',
      doors,
    },
    unsupported_parquet_type: {
      meaning: 'A Parquet column has a type Inlet cannot read.',
      action:
        'Leave the column out of the contract (`onDrift: ignoreExtra`), or convert it when writing the file.',
      doors,
    },
    parquet_row_group_too_large: {
      meaning: 'A Parquet row group is larger than Inlet decodes at once.',
      action: 'Write the file with smaller row groups (e.g. 128 MiB or 1,000,000 rows).',
      doors,
    },
    corrupt_xlsx: {
      meaning: 'The XLSX workbook is damaged: a part is missing or is not valid XML, or it lists no sheets.',
      action: 'Save the workbook again from the spreadsheet program, or export the sheet as CSV.',
      doors,
    },
    not_xlsx: {
      meaning: 'The zip archive is not an XLSX workbook (it has no `[Content_Types].xml`).',
      action: 'Send an .xlsx file saved by a spreadsheet program, or zip a single CSV instead.',
      doors,
    },
    xlsx_no_such_sheet: {
      meaning: 'The workbook has no sheet of the name or number `xlsx.sheet` gives.',
      action: 'Fix `xlsx.sheet` in the pipeline; the message lists the sheets.',
      doors,
    },
    xlsx_no_header: {
      meaning: 'The row `xlsx.headerRow` names is empty, so the sheet has no column names.',
      action: 'Set `xlsx.headerRow` to the row that holds them.',
      doors,
    },
    schema_drift: {
      meaning:
        "The file's columns differ from the contract (missing, unexpected, renamed or repeated columns) and the pipeline's `onDrift` refuses that; the ledger's `details.drift` holds the diff.",
      action:
        "Send the file with the contract's columns, or change the contract; `onDrift: ignoreExtra` skips extra columns, `discardRow` rejects the rows with values in them.",
      doors,
    },
    too_many_rejects: {
      meaning: 'More rows were rejected than the pipeline allows (`rejects.maxRatio`, `rejects.maxRejects`).',
      action: 'Look at the rejected rows (`inlet rejects <id>`), fix the data, and send the file again.',
      doors,
    },
    replace_guard: {
      meaning:
        'In `mode: replace`, the file would shrink the table past the `replace` guard (a truncated or header-only export); the table was left as it was.',
      action:
        'Check the file. If the smaller table is right, load it with `inlet ingest --force`, or lower `replace.minRows` / `replace.minRatio`.',
      doors,
    },
    infer_key_missing: {
      meaning: "An `infer: true` pipeline's `key` names a column the file's inferred columns do not have.",
      action: 'Name the key by one of the inferred columns (`inlet infer <file>` shows them).',
      doors,
    },
    infer_no_columns: {
      meaning: '`inlet infer`: no column of the file can be read, so there is no contract to propose.',
      action: 'Check that the file is the table you meant, with a header row.',
      doors: ['cli'],
    },
  },
} as const satisfies ErrorCodeSection<Record<string, ErrorCodeInfo>>;
