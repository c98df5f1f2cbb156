/**
 * Cross-stack values are strong references (cdk.json: defaultCrossStackReferences "strong"): each one an
 * export of the producing stack that the consumer imports. CloudFormation then refuses to delete a producer,
 * or change an exported value, while a consumer uses it, where a weak `Fn::GetStackOutput` would let the
 * consumer keep a stale proxy address, subnet or security group without a word.
 */
import { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthInlet } from './harness.js';

const inlet = synthInlet();
const templates = [...inlet.templates().entries()];

/** Every object under `value` that has `key`, with the value of that key. */
function intrinsics(value: unknown, key: string): unknown[] {
  if (Array.isArray(value)) return value.flatMap((item) => intrinsics(item, key));
  if (value === null || typeof value !== 'object') return [];
  const object = value as Record<string, unknown>;
  return [
    ...(key in object ? [object[key]] : []),
    ...Object.values(object).flatMap((v) => intrinsics(v, key)),
  ];
}

function exportNames(template: Template): string[] {
  const outputs = (template.toJSON().Outputs ?? {}) as Record<string, { Export?: { Name: string } }>;
  return Object.values(outputs).flatMap((output) => (output.Export ? [output.Export.Name] : []));
}

describe('references between the stacks', () => {
  it('never reads another stack weakly with Fn::GetStackOutput', () => {
    for (const [stack, template] of templates) {
      expect(intrinsics(template.toJSON(), 'Fn::GetStackOutput'), stack).toEqual([]);
    }
  });

  it('imports every cross-stack value from an export of the stack it depends on', () => {
    const exportedBy = new Map(
      templates.flatMap(([stack, template]) => exportNames(template).map((name) => [name, stack] as const)),
    );
    const stacksByName = new Map(
      inlet.app.node.children.filter(Stack.isStack).map((stack) => [stack.stackName, stack] as const),
    );
    let imports = 0;
    for (const [consumer, template] of templates) {
      for (const name of intrinsics(template.toJSON(), 'Fn::ImportValue')) {
        imports += 1;
        expect(typeof name, `${consumer} imports a computed name`).toBe('string');
        const producer = exportedBy.get(name as string);
        expect(producer, `${consumer} imports ${String(name)}, which no stack exports`).toBeDefined();
        const dependencies = (
          stacksByName.get(consumer) as { dependencies: Array<{ stackName: string }> }
        ).dependencies.map((s) => s.stackName);
        expect(dependencies, `${consumer} must deploy after ${producer}`).toContain(producer);
      }
    }
    // The proxy, secret, subnets, security groups and topics cross stacks: the check above is not vacuous.
    expect(imports).toBeGreaterThan(10);
  });
});
