/**
 * A message per finished ingestion on an SNS topic (INLET_NOTIFY_TOPIC_ARN), so a client or an operator can
 * subscribe (email, SQS, Lambda) instead of polling. Message attributes `status` and `pipeline` allow SNS
 * subscription filter policies (e.g. only `rejected` and `failed`). A notification that cannot be sent is
 * logged, never allowed to fail the ingestion it reports.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { IngestResult } from '../model/ingestion.js';
import type { Logger } from './logger.js';

export interface Notifier {
  ingestionFinished(result: IngestResult): Promise<void>;
}

/** The message body: the ingestion as `--json` prints it, plus where the rejects can be read. */
export function notificationOf(result: IngestResult): Record<string, unknown> {
  return {
    type: 'inlet.ingestion.finished',
    ingestionId: result.ingestionId,
    pipeline: result.pipeline,
    source: result.source,
    status: result.status,
    rowsLoaded: result.rowsLoaded,
    rowsRejected: result.rowsRejected,
    bytes: result.bytes,
    durationMs: result.durationMs,
    ...(result.error ? { error: result.error } : {}),
    // onDrift: evolve: the columns this file added to the table, the DDL and the contract's new version.
    ...(result.contractChange ? { contractChange: result.contractChange } : {}),
    firstRejects: result.rejects.slice(0, 5),
  };
}

export class SnsNotifier implements Notifier {
  constructor(
    private readonly topicArn: string,
    private readonly logger: Logger,
    /** Made on first use: the SDK is slow to load and most hosts never publish. */
    private client?: SNSClient,
  ) {}

  async ingestionFinished(result: IngestResult): Promise<void> {
    const name = result.source.split('/').pop() ?? result.source;
    try {
      const { PublishCommand, SNSClient } = await import('@aws-sdk/client-sns');
      this.client ??= new SNSClient({});
      await this.client.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          // SNS subjects are at most 100 ASCII characters with no line breaks.
          Subject: `Inlet: ${result.status} ${name}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
          Message: JSON.stringify(notificationOf(result)),
          MessageAttributes: {
            status: { DataType: 'String', StringValue: result.status },
            pipeline: { DataType: 'String', StringValue: result.pipeline },
          },
        }),
      );
    } catch (error) {
      this.logger.warn('could not publish the ingestion notification', {
        topicArn: this.topicArn,
        ingestionId: result.ingestionId,
        error,
      });
    }
  }
}

/** The notifier for a topic (INLET_NOTIFY_TOPIC_ARN), or none without one. */
export function notifierFor(topicArn: string | undefined, logger: Logger): Notifier | undefined {
  return topicArn === undefined ? undefined : new SnsNotifier(topicArn, logger);
}
