/**
 * The queue S3 events wait in for the ingest function, and its dead-letter queue: both encrypted
 * explicitly (SSE-SQS, which S3 event notifications can write to), TLS only; the visibility timeout is
 * six times the function timeout plus the batching window, and a message that fails five times moves
 * to the DLQ, where it stays 14 days.
 */
import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

export const MAX_RECEIVE_COUNT = 5;

export interface IngestQueueProps {
  readonly functionTimeout: Duration;
  /** @default Duration.seconds(0) */
  readonly maxBatchingWindow?: Duration;
}

export class IngestQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: IngestQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      'SQS3',
      'This queue is the dead-letter queue of the ingest queue; a DLQ of its own would only move the question.',
    );
    const batching = props.maxBatchingWindow?.toSeconds() ?? 0;
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(6 * props.functionTimeout.toSeconds() + batching),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
  }
}
