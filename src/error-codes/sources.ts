import { type ErrorCodeInfo, type ErrorCodeSection, INGESTING_DOORS } from './entry.js';

const doors = INGESTING_DOORS;

/** Reading the file to ingest, and the object stores (local folders, S3) Inlet reads and writes. */
export const sourceCodes = {
  title: 'Reading and storing objects',
  intro:
    'A file or object could not be read, or a store (a local folder, an S3 bucket, a snapshot target) ' +
    'refused the operation. For an ingestion these end it `failed` (the environment, tried again) or are ' +
    'printed by `inlet ingest` for the file it could not open.',
  codes: {
    source_not_found: {
      meaning: 'The file or object does not exist (keys are case-sensitive).',
      action: 'Check the path, or the bucket and key.',
      doors,
    },
    source_unreadable: {
      meaning: 'The local file exists but cannot be read: permission denied, or it is a directory.',
      action: 'Check its owner and mode, and that it is a file.',
      doors: ['cli'],
    },
    source_read_failed: {
      meaning:
        'Reading the file or object failed part of the way through (the disk, the network, the store), or the store answered a ranged read with more than the range.',
      action: 'Try again; if it repeats, check the store the message names.',
      doors,
    },
    source_changed: {
      meaning:
        'What was being read changed under Inlet: an S3 object was overwritten after its event announced it (the newer object comes with its own event), or a spool file kept changing while a snapshot read it.',
      action: 'Nothing for an object; for a snapshot, try again when the spool is quiet.',
      doors: ['upload', 'gateway', 'lambda', 'cli'],
    },
    spool_failed: {
      meaning:
        'A file whose index is at its end (Parquet, XLSX) could not be copied to a temporary file to be read.',
      action: 'Check the free space and permissions of the temporary directory (TMPDIR).',
      doors,
    },
    bucket_not_found: {
      meaning: 'The bucket does not exist (for a `file://` store: its directory does not).',
      action: 'Check the bucket name and the region or endpoint (AWS_REGION, INLET_S3_ENDPOINT).',
      doors,
    },
    access_denied: {
      meaning:
        'The store refused the credentials or the permission (S3 also answers 403 for a missing key when s3:ListBucket is not granted).',
      action:
        'Grant the permission the message names, or fix the credentials (INLET_S3_ACCESS_KEY_ID, INLET_S3_SECRET_ACCESS_KEY, the role).',
      doors,
    },
    endpoint_unreachable: {
      meaning: 'The S3 endpoint could not be reached (network error or timeout).',
      action: 'Check the network, AWS_REGION, and INLET_S3_ENDPOINT and that its server runs.',
      doors,
    },
    invalid_range: {
      meaning: 'A byte range outside the object was asked for (a file shorter than its own index says).',
      action: 'Send the complete file again.',
      doors,
    },
    invalid_key: {
      meaning:
        'An object key or bucket name cannot be used: empty, too long, with a NUL, "." or ".." segments, or not a valid directory name.',
      action: 'Rename the object.',
      doors,
    },
    key_conflict: {
      meaning:
        'A `file://` store cannot hold both a key and keys under it as a "directory" (e.g. `a` and `a/b`).',
      action: 'Rename one of them.',
      doors: ['gateway', 'cli', 'upload'],
    },
    storage_failed: {
      meaning:
        "The store refused or failed the operation for another reason: the bucket is in another region, tags or page sizes over S3's limits, a version a `file://` store does not keep, an I/O error.",
      action: 'Do what the message says; try again if it was transient.',
      doors,
    },
    invalid_uri: {
      meaning: 'A string cannot be used as an object URI.',
      action: 'Use `s3://bucket/key` or `file:///absolute/path`.',
      doors,
    },
    invalid_key_encoding: {
      meaning: 'The key in a source URI is not percent-encoded as the ledger writes it.',
      action: 'Pass the key as it is in the bucket.',
      doors: ['cli'],
    },
    unsupported_source: {
      meaning: '`inlet ingest` was given a URI scheme it does not read.',
      action: 'Give local paths, `file://` or `s3://` URIs.',
      doors: ['cli'],
    },
  },
} as const satisfies ErrorCodeSection<Record<string, ErrorCodeInfo>>;
