/**
 * The doors of a deployment, from its stacks' outputs: S3 (a PutObject into the inbox bucket), the API's
 * presigned upload (POST /uploads, then the multipart POST to S3 it describes), and the server door
 * (PUT /v1/files/NAME with a token). Files that went through S3 are followed through the API's status
 * route (GET /ingestions?key=, SigV4-signed); a file sent to a server through that server's own
 * GET /v1/ingestions/{id}. Requests are signed with the caller's AWS credentials (the SDK's chain:
 * environment, profile, SSO, instance role).
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { AwsCredentials } from '../functions/aws-signing.js';
import { signer } from '../functions/aws-signing.js';
import { absentDoor, type Door, type LedgerRow, notDeployed, type Sent, SmokeError } from './door.js';
import { expectJson, request } from './http.js';
import type { DeployedOutputs } from './stack-outputs.js';

export interface Deployment {
  readonly prefix: string;
  readonly region: string;
  readonly outputs: DeployedOutputs;
  readonly credentials: AwsCredentials;
  /** An upload-service token (`inlet tokens create` on an instance), for the server door. */
  readonly token: string | undefined;
}

export function awsDoors(deployment: Deployment): Door[] {
  const { outputs, prefix } = deployment;
  const api = outputs.apiUrl === undefined ? undefined : statusApi(outputs.apiUrl, deployment);
  return [
    outputs.inboxBucket === undefined || api === undefined
      ? absentDoor('s3', notDeployed(`no inbox bucket: ${prefix}Serverless is not deployed (shape=server)`))
      : s3Door(outputs.inboxBucket, api, deployment),
    outputs.apiUrl === undefined || api === undefined
      ? absentDoor('api', notDeployed(`no upload API: ${prefix}Serverless is not deployed (shape=server)`))
      : apiDoor(outputs.apiUrl, api),
    outputs.uploadUrl === undefined
      ? absentDoor(
          'server',
          notDeployed(`no load balancer: ${prefix}Server is not deployed (shape=serverless)`),
        )
      : serverDoor(outputs.uploadUrl, deployment.token),
    outputs.sftpUrl === undefined
      ? absentDoor(
          'sftp',
          notDeployed(`no SFTP load balancer: ${prefix}Server is not deployed (shape=serverless)`),
        )
      : // A put needs a partner key on the instances first (sudo inlet sftp-users add, through Session Manager).
        absentDoor('sftp', {
          result: 'left out',
          why: `the smoke test does not put over SFTP yet: try ${outputs.sftpUrl} by hand (docs/sftp.md)`,
        }),
  ];
}

/** A SigV4-signed request to the REST API (IAM authorization). */
type SignedFetch = (
  method: 'GET' | 'POST',
  route: string,
  query: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal,
) => Promise<Response>;

function statusApi(apiUrl: string, deployment: Deployment): SignedFetch {
  const base = new URL(apiUrl);
  return async (method, route, query, body, signal) => {
    const path = `${base.pathname.replace(/\/$/, '')}/${route}`;
    const signed = await signer('execute-api', deployment.region, deployment.credentials).sign({
      method,
      protocol: 'https:',
      hostname: base.hostname,
      path,
      query,
      headers: { host: base.hostname, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body }),
    });
    const search = new URLSearchParams(query).toString();
    return request(
      `https://${base.hostname}${path}${search ? `?${search}` : ''}`,
      { method, headers: signed.headers, ...(body === undefined ? {} : { body }), signal },
      `${method} /${route}`,
    );
  };
}

/** The newest ingestion of an inbox key, as the API's status route shows it. */
async function latestOfKey(
  api: SignedFetch,
  sent: Sent,
  signal: AbortSignal,
): Promise<LedgerRow | undefined> {
  const answer = await expectJson<{ ingestions: LedgerRow[] }>(
    await api('GET', 'ingestions', { key: sent.reference }, undefined, signal),
    [200],
    `GET /ingestions?key=${sent.reference}`,
  );
  return answer.ingestions[0];
}

function s3Door(bucket: string, api: SignedFetch, deployment: Deployment): Door {
  const client = new S3Client({ region: deployment.region, credentials: deployment.credentials });
  return {
    id: 's3',
    async send(file, signal) {
      try {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: file.name, Body: file.body }), {
          abortSignal: signal,
        });
      } catch (error) {
        throw new SmokeError(`PutObject s3://${bucket}/${file.name}: ${(error as Error).message}`);
      }
      return { reference: file.name };
    },
    ledgerRow: (sent, signal) => latestOfKey(api, sent, signal),
  };
}

function apiDoor(apiUrl: string, api: SignedFetch): Door {
  return {
    id: 'api',
    async send(file, signal) {
      const upload = await expectJson<{ key: string; url: string; fields: Record<string, string> }>(
        await api('POST', 'uploads', {}, JSON.stringify({ name: file.name }), signal),
        [201],
        `POST ${apiUrl}uploads`,
      );
      const form = new FormData();
      for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
      form.append('file', new Blob([file.body]), file.name.split('/').at(-1) ?? 'file');
      const stored = await request(upload.url, { method: 'POST', body: form, signal }, 'presigned POST');
      if (stored.status < 200 || stored.status > 299) {
        throw new SmokeError(
          `presigned POST to ${upload.url}: HTTP ${stored.status} ${(await stored.text()).slice(0, 300)}`,
        );
      }
      return { reference: upload.key };
    },
    ledgerRow: (sent, signal) => latestOfKey(api, sent, signal),
  };
}

function serverDoor(uploadUrl: string, token: string | undefined): Door {
  const base = uploadUrl.replace(/\/$/, '');
  const headers = { authorization: `Bearer ${token}` };
  return {
    id: 'server',
    async send(file, signal) {
      if (token === undefined) {
        throw new SmokeError(
          'no token for the upload service: create one on an instance (aws ssm start-session --target ' +
            '<InstanceIds output>, then sudo inlet tokens create --name smoke) and pass it with --token or ' +
            'INLET_SMOKE_TOKEN, or leave this door out with --doors s3,api',
        );
      }
      const path = file.name.split('/').map(encodeURIComponent).join('/');
      let response: Response;
      try {
        response = await request(
          `${base}/v1/files/${path}`,
          { method: 'PUT', headers, body: file.body, signal },
          'upload',
        );
      } catch (error) {
        throw new SmokeError(
          `${(error as Error).message}. An internal load balancer answers only inside the VPC: run the smoke ` +
            'test there, or deploy with -c publicLoadBalancer=true -c certificateArn=… -c clientCidr=…',
        );
      }
      const accepted = await expectJson<{ ingestionId: string }>(
        response,
        [202],
        `PUT ${base}/v1/files/${path}`,
      );
      return { reference: accepted.ingestionId };
    },
    async ledgerRow(sent, signal) {
      const response = await request(
        `${base}/v1/ingestions/${sent.reference}`,
        { headers, signal },
        'status',
      );
      return expectJson<LedgerRow>(response, [200], `GET ${base}/v1/ingestions/${sent.reference}`);
    },
  };
}
