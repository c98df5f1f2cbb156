/**
 * Which inbox events reach the ingest queue: every "Object Created" of the inbox bucket, through
 * EventBridge, except under processed/ and rejected/, where `afterLoad: move` puts what it has loaded.
 * S3's own notifications can only include a prefix, not leave one out, so they announced every moved
 * object again, costing an invocation each and a log line saying it was skipped.
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PROCESSED_PREFIX, REJECTED_PREFIX } from './inbox-bucket.js';

export function inboxObjectCreatedPattern(inbox: s3.IBucket): events.EventPattern {
  return {
    source: ['aws.s3'],
    detailType: ['Object Created'],
    detail: {
      bucket: { name: [inbox.bucketName] },
      object: { key: events.Match.anythingButPrefix(PROCESSED_PREFIX, REJECTED_PREFIX) },
    },
  };
}

export class InboxEvents extends Construct {
  readonly rule: events.Rule;

  constructor(
    scope: Construct,
    id: string,
    props: { readonly inbox: s3.IBucket; readonly queue: sqs.IQueue },
  ) {
    super(scope, id);
    this.rule = new events.Rule(this, 'ObjectCreated', {
      description: 'Inlet: new inbox objects to the ingest queue, except what afterLoad moved aside',
      eventPattern: inboxObjectCreatedPattern(props.inbox),
      targets: [new targets.SqsQueue(props.queue)],
    });
  }
}
