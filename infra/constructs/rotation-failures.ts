/**
 * Failed secret rotations, kept where someone can read them: Secrets Manager reports each one as a
 * `RotationFailed` service event on the default event bus (by way of CloudTrail); a rule takes those of
 * Inlet's secrets into a queue, and OpsAlarms alarms while the queue holds any.
 * The queue, not the rule's own metrics, carries the alarm: it keeps each event's `errorMessage` (which
 * step failed, and why) for two weeks, and the alarm stays raised until someone has read and purged it.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

/** The event Secrets Manager emits when any step of a rotation fails (docs: CloudTrail entries). */
export function rotationFailedPattern(secrets: readonly secretsmanager.ISecret[]): events.EventPattern {
  return {
    source: ['aws.secretsmanager'],
    detailType: ['AWS Service Event via CloudTrail'],
    detail: {
      eventSource: ['secretsmanager.amazonaws.com'],
      eventName: ['RotationFailed'],
      additionalEventData: { SecretId: secrets.map((secret) => secret.secretArn) },
    },
  };
}

export class RotationFailures extends Construct {
  /** One message per failed rotation: the CloudTrail event, `detail.errorMessage` included. */
  readonly queue: sqs.Queue;

  constructor(scope: Construct, id: string, props: { readonly secrets: readonly secretsmanager.ISecret[] }) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.queue,
      'SQS3',
      'Nothing consumes this queue: it holds failed-rotation events for a person to read, and its depth is the ' +
        'alarm. A dead-letter queue would only receive what someone moved there by hand.',
    );
    new events.Rule(this, 'Rule', {
      description: 'Inlet: a rotation of one of its database secrets failed',
      eventPattern: rotationFailedPattern(props.secrets),
      targets: [new targets.SqsQueue(this.queue)],
    });
  }
}
