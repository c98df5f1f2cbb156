/**
 * The deployed stacks' outputs the smoke test needs (infra/output-names.ts): from CloudFormation
 * (DescribeStacks, SigV4-signed with the caller's credentials), or from the file
 * `npx cdk deploy --all --outputs-file FILE` writes. A stack that does not exist means its door is not
 * deployed; any other refusal is an error.
 */
import { XMLParser } from 'fast-xml-parser';
import type { AwsCredentials } from '../functions/aws-signing.js';
import { signer } from '../functions/aws-signing.js';
import { OUTPUT_STACKS, OUTPUTS } from '../output-names.js';
import { SmokeError } from './door.js';
import { request } from './http.js';

export type DeployedOutputs = Partial<Record<keyof typeof OUTPUTS, string>>;

type OutputName = keyof typeof OUTPUTS;
const NAMES = Object.keys(OUTPUTS) as OutputName[];

/** From `cdk deploy --outputs-file`'s JSON: `{"InletServerless": {"InboxBucketName": "…"}, …}`. */
export function outputsFromFile(json: unknown, prefix: string): DeployedOutputs {
  const stacks = (json ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const found: DeployedOutputs = {};
  for (const name of NAMES) {
    const value = stacks[`${prefix}${OUTPUT_STACKS[name]}`]?.[OUTPUTS[name]];
    if (typeof value === 'string' && value !== '') found[name] = value;
  }
  return found;
}

/** A DescribeStacks answer's outputs, key to value. */
export function parseDescribeStacks(xml: string): Record<string, string> {
  const parsed = new XMLParser({ isArray: (name) => name === 'member' }).parse(xml) as {
    DescribeStacksResponse?: {
      DescribeStacksResult?: {
        Stacks?: {
          member?: Array<{ Outputs?: { member?: Array<{ OutputKey: string; OutputValue: string }> } }>;
        };
      };
    };
  };
  const stack = parsed.DescribeStacksResponse?.DescribeStacksResult?.Stacks?.member?.[0];
  return Object.fromEntries(
    (stack?.Outputs?.member ?? []).map((one) => [one.OutputKey, String(one.OutputValue)]),
  );
}

export async function outputsFromCloudFormation(
  prefix: string,
  region: string,
  credentials: AwsCredentials,
  signal: AbortSignal,
): Promise<DeployedOutputs> {
  const found: DeployedOutputs = {};
  for (const stackName of new Set(Object.values(OUTPUT_STACKS))) {
    const outputs = await describeStack(`${prefix}${stackName}`, region, credentials, signal);
    for (const name of NAMES) {
      const value = OUTPUT_STACKS[name] === stackName ? outputs?.[OUTPUTS[name]] : undefined;
      if (value) found[name] = value;
    }
  }
  return found;
}

/** The stack's outputs; undefined when there is no such stack. */
async function describeStack(
  stackName: string,
  region: string,
  credentials: AwsCredentials,
  signal: AbortSignal,
): Promise<Record<string, string> | undefined> {
  const hostname = `cloudformation.${region}.amazonaws.com`;
  const body = new URLSearchParams({ Action: 'DescribeStacks', StackName: stackName, Version: '2010-05-15' });
  const signed = await signer('cloudformation', region, credentials).sign({
    method: 'POST',
    protocol: 'https:',
    hostname,
    path: '/',
    headers: { host: hostname, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: body.toString(),
  });
  const response = await request(
    `https://${hostname}/`,
    { method: 'POST', headers: signed.headers, body: body.toString(), signal },
    `DescribeStacks ${stackName}`,
  );
  const text = await response.text();
  if (response.ok) return parseDescribeStacks(text);
  if (response.status === 400 && /does not exist/.test(text)) return undefined;
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP ${response.status}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '';
  throw new SmokeError(`DescribeStacks ${stackName} in ${region}: ${code} ${message}`.trim());
}
