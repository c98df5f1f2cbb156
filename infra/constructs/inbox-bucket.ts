/**
 * The inbox clients upload to: SSE-S3 (AES-256), public access blocked, TLS only, versioned (a version
 * id is the strongest identity Inlet can key an ingestion on), access-logged, and with lifecycle rules
 * for what `afterLoad: move` leaves under processed/ and rejected/.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Where `afterLoad: move` puts objects (src/serverless/handler.ts); keys there are never ingested. */
export const PROCESSED_PREFIX = 'processed/';
export const REJECTED_PREFIX = 'rejected/';

export interface InboxBucketProps {
  readonly accessLogs: s3.IBucket;
  /** @default 90 */
  readonly processedRetentionDays?: number;
  /** @default 365 */
  readonly rejectedRetentionDays?: number;
}

export class InboxBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: InboxBucketProps) {
    super(scope, id);
    // No fixed name: the bucket is kept when the stack is destroyed, so a fixed name would make the next
    // deployment fail on "already exists". CloudFormation generates one; the InboxBucketName output says it.
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogs,
      // New objects are announced through EventBridge, whose rules can leave prefixes out (inbox-events.ts).
      eventBridgeEnabled: true,
      serverAccessLogsPrefix: 'inbox/',
      lifecycleRules: [
        {
          id: 'expire-processed',
          prefix: PROCESSED_PREFIX,
          expiration: Duration.days(props.processedRetentionDays ?? 90),
        },
        {
          id: 'expire-rejected',
          prefix: REJECTED_PREFIX,
          expiration: Duration.days(props.rejectedRetentionDays ?? 365),
        },
        {
          id: 'tidy-versions-and-uploads',
          noncurrentVersionExpiration: Duration.days(30),
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      // Client files outlive the stack: delete the bucket by hand once it is no longer needed.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
