import { describe, expect, it } from 'vitest';
import {
  decodeS3Key,
  fromDirectEvent,
  fromEventBridge,
  fromSqsMessage,
  isSqsEvent,
} from '../../../src/serverless/events.js';

/** A record shaped as AWS documents it (event message structure, version 2.1). */
function s3Record(key: string, eventName = 'ObjectCreated:Put') {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2026-11-25T10:00:00.000Z',
    eventName,
    userIdentity: { principalId: 'AWS:EXAMPLE' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': 'REQ', 'x-amz-id-2': 'HOST' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'inlet',
      bucket: { name: 'inbox', ownerIdentity: { principalId: 'OWNER' }, arn: 'arn:aws:s3:::inbox' },
      object: { key, size: 42, eTag: 'd41d8cd98f00b204e9800998ecf8427e', sequencer: '0055AED6DCD90281E5' },
    },
  };
}

describe('decodeS3Key', () => {
  it('B7: decodes + as a space first, then percent escapes', () => {
    expect(decodeS3Key('a%2Bb+c.csv')).toBe('a+b c.csv');
    expect(decodeS3Key('orders/2026%2F11/%C3%A9t%C3%A9.csv')).toBe('orders/2026/11/été.csv');
  });

  it('keeps a stray percent sign that is no escape', () => {
    expect(decodeS3Key('100%+sure.csv')).toBe('100% sure.csv');
  });
});

describe('S3 notifications', () => {
  it('reads created objects from a direct S3 event with the decoded key and identity', () => {
    expect(fromDirectEvent({ Records: [s3Record('orders/a%2Bb+c.csv')] })).toEqual({
      kind: 'objects',
      objects: [
        {
          bucket: 'inbox',
          key: 'orders/a+b c.csv',
          size: 42,
          etag: 'd41d8cd98f00b204e9800998ecf8427e',
          sequencer: '0055AED6DCD90281E5',
          eventTime: new Date('2026-11-25T10:00:00.000Z'),
        },
      ],
    });
  });

  it('ignores events that create nothing', () => {
    expect(fromDirectEvent({ Records: [s3Record('x.csv', 'ObjectRemoved:Delete')] }).kind).toBe('ignore');
  });

  it('B8: acknowledges s3:TestEvent, directly or in SQS', () => {
    const test = {
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: '2026-11-25T10:00:00Z',
      Bucket: 'inbox',
    };
    expect(fromDirectEvent(test)).toEqual({ kind: 'ignore', reason: 's3:TestEvent' });
    expect(fromSqsMessage({ body: JSON.stringify(test) })).toEqual({
      kind: 'ignore',
      reason: 's3:TestEvent',
    });
  });
});

describe('SQS messages', () => {
  it('unwraps an S3 notification in the message body, and through an SNS envelope', () => {
    const body = JSON.stringify({ Records: [s3Record('k+1.csv')] });
    expect(fromSqsMessage({ body })).toMatchObject({ kind: 'objects', objects: [{ key: 'k 1.csv' }] });
    const viaSns = JSON.stringify({ Type: 'Notification', MessageId: 'm', Message: body });
    expect(fromSqsMessage({ body: viaSns })).toMatchObject({
      kind: 'objects',
      objects: [{ key: 'k 1.csv' }],
    });
  });

  it('calls a body it cannot read invalid, so it is reported instead of retried forever', () => {
    expect(fromSqsMessage({ body: 'not json' })).toEqual({
      kind: 'invalid',
      reason: 'the message body is not JSON',
    });
    expect(fromSqsMessage({ body: '{"hello": 1}' }).kind).toBe('invalid');
  });

  it('recognises an SQS event', () => {
    expect(isSqsEvent({ Records: [{ eventSource: 'aws:sqs', body: '{}', messageId: '1' }] })).toBe(true);
    expect(isSqsEvent({ Records: [s3Record('x')] })).toBe(false);
  });
});

describe('EventBridge', () => {
  const event = {
    version: '0',
    id: 'e',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    time: '2026-11-25T10:00:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:s3:::inbox'],
    detail: {
      version: '0',
      bucket: { name: 'inbox' },
      object: { key: 'a b+c.csv', size: 7, etag: 'abc', 'version-id': 'v1', sequencer: '00617F08299329D189' },
      'request-id': 'R',
      requester: '123456789012',
      reason: 'PutObject',
    },
  };

  it('takes the key as is (EventBridge does not form-encode it)', () => {
    expect(fromEventBridge(event)).toEqual({
      kind: 'objects',
      objects: [
        {
          bucket: 'inbox',
          key: 'a b+c.csv',
          size: 7,
          etag: 'abc',
          versionId: 'v1',
          sequencer: '00617F08299329D189',
          eventTime: new Date('2026-11-25T10:00:00Z'),
        },
      ],
    });
    expect(fromDirectEvent(event).kind).toBe('objects');
  });

  it('ignores other detail types and refuses a malformed one', () => {
    expect(fromEventBridge({ ...event, 'detail-type': 'Object Deleted' }).kind).toBe('ignore');
    expect(fromEventBridge({ ...event, detail: {} }).kind).toBe('invalid');
  });
});
