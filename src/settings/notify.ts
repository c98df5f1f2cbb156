/**
 * `INLET_NOTIFY_TOPIC_ARN`, the SNS topic that hears of every finished ingestion (docs/environment.md),
 * read by the upload service and the Lambda alike.
 */
import { type Env, invalidSetting, text } from './env.js';

const TOPIC_ARN = /^arn:[^:\s]+:sns:[^:\s]*:[^:\s]*:[^:\s]+$/;

export function notifyTopicArnFrom(env: Env): string | undefined {
  const arn = text(env, 'INLET_NOTIFY_TOPIC_ARN');
  if (arn !== undefined && !TOPIC_ARN.test(arn)) {
    throw invalidSetting(
      'INLET_NOTIFY_TOPIC_ARN',
      'an SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:inlet-events',
      arn,
    );
  }
  return arn;
}
