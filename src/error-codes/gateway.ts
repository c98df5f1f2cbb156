import type { ErrorCodeInfo, ErrorCodeSection } from './entry.js';

/** The local S3 gateway of `inlet dev`: Inlet's own codes for it (S3's codes are in src/gateway/s3-codes.ts). */
export const gatewayCodes = {
  title: 'The local S3 gateway',
  intro:
    "The local S3 gateway (`inlet dev`) speaks S3: it refuses a request with S3's XML error body and S3's " +
    'own code (`NoSuchKey`, `SignatureDoesNotMatch`…), listed in the next table, because S3 clients and SDKs ' +
    "act on those. They are S3's protocol, not Inlet's codes. In Inlet's logs such a refusal has the " +
    'code `s3_error` and the S3 code beside it. Files put through the gateway are ingested as by any ' +
    'other door, with the codes above.',
  codes: {
    s3_error: {
      meaning:
        "The local S3 gateway refused an S3 request; the S3 code it answered with (the XML body's `Code`) says why.",
      action: 'Look the S3 code up in the table below.',
      doors: ['gateway'],
    },
    gateway_not_ready: {
      meaning:
        'The local S3 gateway delivered an event before its object store was set up; the event stays in its outbox and is retried.',
      action: 'Nothing if it passes; if it repeats, restart `inlet dev` and report it.',
      doors: ['gateway'],
    },
  },
} as const satisfies ErrorCodeSection<Record<string, ErrorCodeInfo>>;
