/**
 * The smoke test's parts that need no stack and no time: reading the deployed outputs, the table and
 * the exit code, the files it sends. Its deadlines are tested in test/integration/infra/smoke-run.test.ts,
 * and the whole script against the local stack in test/integration/local/smoke.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { exitCode, reportTable } from '../../../infra/smoke/report.js';
import type { DoorResult } from '../../../infra/smoke/run.js';
import { defaultOrder, runId, smokeName } from '../../../infra/smoke/smoke-file.js';
import { outputsFromFile, parseDescribeStacks } from '../../../infra/smoke/stack-outputs.js';

describe('deployed outputs', () => {
  it('reads the outputs cdk deploy --outputs-file writes, for the stacks of the prefix', () => {
    const file = {
      AcmeServerless: { InboxBucketName: 'acme-inbox-1-eu-west-1', DeadLetterQueueUrl: 'https://sqs/dlq' },
      AcmeExtensions: { ApiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/v1/', AlarmTopicArn: 'arn' },
      InletServer: { UploadUrl: 'http://other-prefix' },
    };
    expect(outputsFromFile(file, 'Acme')).toEqual({
      inboxBucket: 'acme-inbox-1-eu-west-1',
      apiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/v1/',
    });
    expect(outputsFromFile({}, 'Inlet')).toEqual({});
  });

  it("reads a DescribeStacks answer's outputs, one or many", () => {
    const answer = (
      outputs: string,
    ) => `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <DescribeStacksResult><Stacks><member><StackName>InletServer</StackName>
    <Outputs>${outputs}</Outputs>
  </member></Stacks></DescribeStacksResult>
</DescribeStacksResponse>`;
    const output = (key: string, value: string) =>
      `<member><OutputKey>${key}</OutputKey><OutputValue>${value}</OutputValue></member>`;
    expect(parseDescribeStacks(answer(output('UploadUrl', 'https://lb.example')))).toEqual({
      UploadUrl: 'https://lb.example',
    });
    expect(
      parseDescribeStacks(
        answer(output('UploadUrl', 'https://lb.example') + output('InstanceIds', 'i-1,i-2')),
      ),
    ).toEqual({ UploadUrl: 'https://lb.example', InstanceIds: 'i-1,i-2' });
    expect(parseDescribeStacks(answer(''))).toEqual({});
  });
});

describe('the report', () => {
  const results: DoorResult[] = [
    {
      door: 's3',
      outcome: 'pass',
      sendMs: 312,
      totalMs: 9_840,
      detail: 'loaded (1 row loaded; ingestion 01a2, s3://b/k)',
    },
    {
      door: 'api',
      outcome: 'fail',
      sendMs: 640,
      totalMs: 300_000,
      detail: 'no ledger row after 300 s for k',
    },
    { door: 'server', outcome: 'left out', detail: 'not in --doors s3,api' },
    { door: 'sftp', outcome: 'not deployed', detail: 'no SFTP load balancer (shape=serverless)' },
  ];

  it('is a table of door, result, timings and detail, with a count', () => {
    const table = reportTable(results).split('\n');
    expect(table[0]).toMatch(/^door +result +sent +in ledger +detail$/);
    expect(table[1]).toMatch(
      /^S3 put +pass +0\.3 s +9\.8 s +loaded \(1 row loaded; ingestion 01a2, s3:\/\/b\/k\)$/,
    );
    expect(table[2]).toMatch(
      /^API Gateway presigned upload +FAIL +0\.6 s +- +no ledger row after 300 s for k$/,
    );
    expect(table[3]).toMatch(/^HTTPS server +left out +- +- +not in --doors s3,api$/);
    expect(table[4]).toMatch(/^SFTP +not deployed +- +- +no SFTP load balancer \(shape=serverless\)$/);
    expect(table.at(-2)).toBe('1 passed, 1 failed, 2 not tried');
  });

  it('exits 0 only when every door tried passed and one was tried', () => {
    const [pass, fail, leftOut, absent] = results as [DoorResult, DoorResult, DoorResult, DoorResult];
    expect(exitCode([pass, leftOut, absent])).toBe(0);
    expect(exitCode([pass, fail])).toBe(1);
    expect(exitCode([leftOut, absent])).toBe(1);
  });
});

describe('the files sent', () => {
  it('names each file for the run and the door', () => {
    const run = runId(new Date('2026-12-07T10:11:12.345Z'), () => 0.5);
    expect(run).toBe('20261207-101112-8000');
    expect(smokeName('orders/inlet-smoke-{run}-{door}.csv', run, 'api')).toBe(
      'orders/inlet-smoke-20261207-101112-8000-api.csv',
    );
  });

  it('sends one order, its id unique to the run and the door and within bigint', () => {
    const run = '20261207-101112-8000';
    const ids = (['s3', 'api', 'server'] as const).map(
      (door) => defaultOrder(run, door, new Date()).toString().split('\n')[1]?.split(',')[0],
    );
    expect(ids).toEqual(['9202612071011120', '9202612071011121', '9202612071011122']);
    expect(defaultOrder(run, 's3', new Date()).toString().split('\n')[0]).toBe(
      'order_id,placed_at,Customer Name,amount,paid',
    );
  });
});
