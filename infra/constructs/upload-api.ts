/**
 * The REST API of the serverless shape: POST /uploads answers a presigned POST for the inbox (a key under
 * the caller's own prefix, a size limit; infra/functions/presign-upload.ts),
 * GET /ingestions?key= and GET /ingestions/{id} read the ledger. IAM (SigV4) authorization on every
 * method: uploaders are programs with AWS credentials (a role per client), so no user pool or token
 * store is needed, credentials are short-lived, and access is granted per route with execute-api:Invoke
 * (the ClientPolicy below). Requests are validated before any function runs; access logs are JSON.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CLIENT_UPLOADS_PREFIX } from '../../src/config/client-uploads.js';
import { acknowledge, acknowledgeWildcardResource } from '../nag.js';
import { ApiFunction } from './api-function.js';
import { ProxyAccess } from './proxy-access.js';

export const API_STAGE = 'v1';
export const UPLOAD_URL_SECONDS = 900;

export interface UploadApiProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly inbox: s3.IBucket;
  /** The largest file an upload may carry; S3 refuses a larger one. */
  readonly maxUploadBytes: number;
  /** The status role's: the status function reads the ledger and nothing else. */
  readonly databaseSecret: secretsmanager.ISecret;
  readonly proxy: rds.IDatabaseProxy;
  readonly proxySecurityGroup: ec2.ISecurityGroup;
  /**
   * Create API Gateway's account-wide CloudWatch role (kept after `cdk destroy`). Without it, the stage logs
   * through the role the account already has (API Gateway refuses the stage's logging if it has none).
   */
  readonly createAccountLoggingRole: boolean;
}

export class UploadApi extends Construct {
  readonly api: apigw.RestApi;
  readonly presign: ApiFunction;
  readonly status: ApiFunction;
  readonly clientPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: UploadApiProps) {
    super(scope, id);
    this.presign = new ApiFunction(this, 'Presign', {
      entry: 'presign-upload.ts',
      description: 'Inlet API: presigned upload URLs for the inbox',
      vpc: props.vpc,
      subnets: props.subnets,
      environment: {
        INLET_INBOX_BUCKET: props.inbox.bucketName,
        INLET_UPLOAD_URL_SECONDS: String(UPLOAD_URL_SECONDS),
        INLET_UPLOAD_MAX_BYTES: String(props.maxUploadBytes),
      },
    });
    this.grantPresign(props.inbox);

    this.status = new ApiFunction(this, 'Status', {
      entry: 'ingestion-status.ts',
      description: 'Inlet API: ingestion status from the ledger',
      vpc: props.vpc,
      subnets: props.subnets,
      environment: {
        INLET_INBOX_BUCKET: props.inbox.bucketName,
        INLET_DATABASE_SECRET_ARN: props.databaseSecret.secretArn,
        INLET_DATABASE_HOST: props.proxy.endpoint,
      },
    });
    props.databaseSecret.grantRead(this.status.role);
    new ProxyAccess(this, 'StatusProxyAccess', {
      proxySecurityGroup: props.proxySecurityGroup,
      from: this.status.securityGroup,
      description: 'PostgreSQL from the Inlet API status function',
    });

    const accessLog = new logs.LogGroup(this, 'AccessLog', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new apigw.RestApi(this, 'Api', {
      description: 'Inlet: presigned uploads to the inbox and ingestion status',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole: props.createAccountLoggingRole,
      // The account-level CloudWatch role is shared by every REST API in the region: keep it.
      ...(props.createAccountLoggingRole ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      deployOptions: {
        stageName: API_STAGE,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLog),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Bodies carry presigned URLs: never log them.
        dataTraceEnabled: false,
        metricsEnabled: true,
        throttlingRateLimit: 20,
        throttlingBurstLimit: 40,
      },
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
    });
    this.addRoutes();

    this.clientPolicy = new iam.ManagedPolicy(this, 'ClientPolicy', {
      description: 'Attach to a client role: it may ask for upload URLs and read ingestion status',
      statements: [
        new iam.PolicyStatement({
          actions: ['execute-api:Invoke'],
          resources: [
            this.api.arnForExecuteApi('POST', '/uploads', API_STAGE),
            this.api.arnForExecuteApi('GET', '/ingestions', API_STAGE),
            this.api.arnForExecuteApi('GET', '/ingestions/*', API_STAGE),
          ],
        }),
      ],
    });
    acknowledgeWildcardResource(
      this.clientPolicy,
      this.api.arnForExecuteApi('GET', '/ingestions/*', API_STAGE),
      'The path parameter of GET /ingestions/{id} is a wildcard in execute-api ARNs; the statement names ' +
        'this API, this stage, the GET method and that one route.',
    );
    acknowledge(
      this.api,
      'APIG3',
      'No WAF web ACL by default (about $6 a month at rest): every method requires SigV4-signed IAM ' +
        'credentials, so anonymous traffic is refused by API Gateway before any integration runs, and the ' +
        'stage is throttled. Attach a web ACL when the API faces untrusted networks at volume.',
    );
    acknowledge(
      this.api,
      'COG4',
      'The API uses IAM authorization instead of a Cognito user pool: the callers are programs with AWS ' +
        'credentials, authorized per route with execute-api:Invoke (ClientPolicy).',
    );
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole !== undefined) {
      acknowledge(
        cloudWatchRole,
        'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        "API Gateway's account-level logging role needs this AWS-managed policy, which AWS keeps in step with " +
          'the log groups API Gateway creates (their names are chosen by the service).',
      );
    }
  }

  /** PUT (which a POST upload is to IAM) under clients/ only: the prefix every upload key starts with. */
  private grantPresign(inbox: s3.IBucket): void {
    const clientObjects = inbox.arnForObjects(`${CLIENT_UPLOADS_PREFIX}*`);
    this.presign.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [clientObjects] }),
    );
    acknowledgeWildcardResource(
      this.presign.role,
      clientObjects,
      'A presigned POST is signed with this role for clients/<caller>/<name>, where the caller is the IAM ' +
        'principal that asked and the name is the one it gave; the grant covers that prefix of the inbox only.',
    );
  }

  private addRoutes(): void {
    const validator = new apigw.RequestValidator(this, 'Validator', {
      restApi: this.api,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const uploadRequest = this.api.addModel('UploadRequest', {
      contentType: 'application/json',
      schema: {
        schema: apigw.JsonSchemaVersion.DRAFT4,
        type: apigw.JsonSchemaType.OBJECT,
        required: ['name'],
        additionalProperties: false,
        properties: { name: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: 1024 } },
      },
    });
    const presign = new apigw.LambdaIntegration(this.presign.function, { timeout: Duration.seconds(10) });
    const status = new apigw.LambdaIntegration(this.status.function, { timeout: Duration.seconds(15) });

    this.api.root.addResource('uploads').addMethod('POST', presign, {
      requestValidator: validator,
      requestModels: { 'application/json': uploadRequest },
    });
    const ingestions = this.api.root.addResource('ingestions');
    ingestions.addMethod('GET', status, {
      requestValidator: validator,
      requestParameters: { 'method.request.querystring.key': true },
    });
    ingestions.addResource('{id}').addMethod('GET', status, {
      requestValidator: validator,
      requestParameters: { 'method.request.path.id': true },
    });
  }
}
