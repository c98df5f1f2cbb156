import type { EventBridgeEvent, S3Event, S3EventRecord, SQSEvent, SQSRecord } from 'aws-lambda';

/**
 * One created object, whatever envelope announced it: an S3 event notification, the same wrapped
 * in SQS (optionally through SNS), or an EventBridge "Object Created" event.
 */
export interface ObjectRef {
  readonly bucket: string;
  /** The real key: S3 notifications form-encode it, EventBridge does not; this is decoded. */
  readonly key: string;
  readonly size?: number;
  readonly etag?: string;
  readonly versionId?: string;
  /** S3's per-key ordering value (hex); orders versions of one key. */
  readonly sequencer?: string;
  readonly eventTime?: Date;
}

/** What a message or event turned out to hold. */
export type Announcement =
  | { readonly kind: 'objects'; readonly objects: readonly ObjectRef[] }
  /** s3:TestEvent (sent when a notification is configured) or events that create nothing: acknowledge. */
  | { readonly kind: 'ignore'; readonly reason: string }
  /** A message that can never be understood: report it, do not retry it forever. */
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * Keys in S3 notifications are form-encoded: a space arrives as `+`, a real `+` as `%2B`.
 * Decode `+` first, then percent-escapes (docs/deploy-aws.md).
 */
export function decodeS3Key(encoded: string): string {
  const spaced = encoded.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // A stray '%' that is not an escape is part of the key.
    return spaced;
  }
}

export function fromS3Records(records: readonly S3EventRecord[]): Announcement {
  const objects: ObjectRef[] = [];
  for (const record of records) {
    if (!record.eventName?.startsWith('ObjectCreated')) continue;
    const object = record.s3.object;
    objects.push({
      bucket: record.s3.bucket.name,
      key: decodeS3Key(object.key),
      ...(typeof object.size === 'number' ? { size: object.size } : {}),
      ...(object.eTag ? { etag: object.eTag } : {}),
      ...(object.versionId ? { versionId: object.versionId } : {}),
      ...(object.sequencer ? { sequencer: object.sequencer } : {}),
      ...(record.eventTime ? { eventTime: new Date(record.eventTime) } : {}),
    });
  }
  return objects.length > 0
    ? { kind: 'objects', objects }
    : { kind: 'ignore', reason: 'no ObjectCreated records (only other event types)' };
}

interface ObjectCreatedDetail {
  readonly bucket?: { readonly name?: string };
  readonly object?: {
    readonly key?: string;
    readonly size?: number;
    readonly etag?: string;
    readonly 'version-id'?: string;
    readonly sequencer?: string;
  };
}

export function fromEventBridge(event: EventBridgeEvent<string, ObjectCreatedDetail>): Announcement {
  if (event['detail-type'] !== 'Object Created') {
    return { kind: 'ignore', reason: `EventBridge "${event['detail-type']}" events create no object` };
  }
  const bucket = event.detail?.bucket?.name;
  const object = event.detail?.object;
  if (!bucket || object?.key === undefined) {
    return {
      kind: 'invalid',
      reason: 'EventBridge "Object Created" event without detail.bucket.name or detail.object.key',
    };
  }
  return {
    kind: 'objects',
    objects: [
      {
        bucket,
        // EventBridge carries the key as it is, not form-encoded.
        key: object.key,
        ...(typeof object.size === 'number' ? { size: object.size } : {}),
        ...(object.etag ? { etag: object.etag } : {}),
        ...(object['version-id'] ? { versionId: object['version-id'] } : {}),
        ...(object.sequencer ? { sequencer: object.sequencer } : {}),
        ...(event.time ? { eventTime: new Date(event.time) } : {}),
      },
    ],
  };
}

/** The body of one SQS message: an S3 notification, an s3:TestEvent, or either inside an SNS envelope. */
export function fromSqsMessage(message: Pick<SQSRecord, 'body'>): Announcement {
  let body: unknown;
  try {
    body = JSON.parse(message.body);
  } catch {
    return { kind: 'invalid', reason: 'the message body is not JSON' };
  }
  if (isObject(body) && body.Type === 'Notification' && typeof body.Message === 'string') {
    return fromSqsMessage({ body: body.Message });
  }
  if (isObject(body) && body.Event === 's3:TestEvent') return { kind: 'ignore', reason: 's3:TestEvent' };
  if (isObject(body) && Array.isArray(body.Records)) return fromS3Records(body.Records as S3EventRecord[]);
  if (isObject(body) && body.source === 'aws.s3' && 'detail-type' in body) {
    return fromEventBridge(body as unknown as EventBridgeEvent<string, ObjectCreatedDetail>);
  }
  return { kind: 'invalid', reason: 'the message is neither an S3 notification nor an EventBridge S3 event' };
}

export type LambdaEvent =
  | S3Event
  | SQSEvent
  | EventBridgeEvent<string, ObjectCreatedDetail>
  | { readonly Event?: string };

export function isSqsEvent(event: unknown): event is SQSEvent {
  return (
    isObject(event) &&
    Array.isArray(event.Records) &&
    event.Records.length > 0 &&
    isObject(event.Records[0]) &&
    event.Records[0].eventSource === 'aws:sqs'
  );
}

/** A direct (non-SQS) invocation's event. */
export function fromDirectEvent(event: unknown): Announcement {
  if (isObject(event) && event.Event === 's3:TestEvent') return { kind: 'ignore', reason: 's3:TestEvent' };
  if (isObject(event) && Array.isArray(event.Records)) return fromS3Records(event.Records as S3EventRecord[]);
  if (isObject(event) && event.source === 'aws.s3' && 'detail-type' in event) {
    return fromEventBridge(event as unknown as EventBridgeEvent<string, ObjectCreatedDetail>);
  }
  return { kind: 'invalid', reason: 'not an S3, SQS or EventBridge event' };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
