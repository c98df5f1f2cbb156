/**
 * A bucket that receives logs (S3 server access logs, load balancer access logs, VPC flow logs):
 * SSE-S3 (the only encryption those services deliver to), public access blocked, TLS only,
 * delivery granted by bucket policy, objects expired after a year.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

export interface LogBucketProps {
  /** @default 365 */
  readonly expireAfterDays?: number;
}

export class LogBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: LogBucketProps = {}) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-logs',
          expiration: Duration.days(props.expireAfterDays ?? 365),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      // Logs are evidence: they outlive the stack and are deleted by their lifecycle rule.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.bucket,
      'S1',
      'This bucket is the access-log destination itself: logging it to itself would loop, and logging it ' +
        'to another bucket only moves the question to that bucket.',
    );
  }
}
