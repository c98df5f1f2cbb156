/** How `inlet plan` and `inlet apply` print a plan: per pipeline, each statement with its reason. */
import type { PlanStep, TablePlan } from '../engine/reconcile/plan.js';
import type { Paint } from './output.js';

export function tableLabel(plan: TablePlan): string {
  return `${plan.table.schema}.${plan.table.name}`;
}

/** The lines of one pipeline's plan; `allowDestructive` heads the destructive ones as what will run. */
export function planLines(plan: TablePlan, colours: Paint, allowDestructive = false): string[] {
  const head = `pipeline ${plan.pipeline} → ${tableLabel(plan)}`;
  if (plan.status === 'no_table' || plan.status === 'no_contract') return [`${head}: ${plan.note ?? ''}`];
  if (plan.status === 'in_sync') return [`${head}: ${colours.green('matches the contract')}`];
  const lines = [colours.bold(`${head}:`)];
  const section = (title: string, steps: readonly PlanStep[], mark: (text: string) => string) => {
    if (steps.length === 0) return;
    lines.push(`  ${title}`);
    for (const step of steps) {
      lines.push(`    ${mark(`${step.sql};`)}`);
      lines.push(`      -- ${step.reason}`);
    }
  };
  section('changes that keep every value:', plan.changes, colours.green);
  section(
    allowDestructive
      ? 'destructive, to run with --allow-destructive (read what each loses):'
      : 'refused, destructive (inlet apply --allow-destructive runs them):',
    plan.destructive,
    colours.red,
  );
  section('blocked until the data changes:', plan.blocked, colours.yellow);
  return lines;
}

export function planJson(plan: TablePlan): Record<string, unknown> {
  const steps = (list: readonly PlanStep[]) =>
    list.map((step) => ({
      action: step.action,
      column: step.column,
      sql: step.sql,
      reason: step.reason,
      ...(step.rows === undefined ? {} : { rows: step.rows }),
    }));
  return {
    pipeline: plan.pipeline,
    table: tableLabel(plan),
    status: plan.status,
    changes: steps(plan.changes),
    destructive: steps(plan.destructive),
    blocked: steps(plan.blocked),
    ...(plan.note === undefined ? {} : { note: plan.note }),
  };
}

export function hasWork(plan: TablePlan): boolean {
  return plan.changes.length + plan.destructive.length + plan.blocked.length > 0;
}

/** The pipelines to plan: all of the config's, or the one `--pipeline` names. */
export function selectPipelines<P extends { readonly name: string }>(
  pipelines: readonly P[],
  name: string | undefined,
  find: (name: string) => P | undefined,
): readonly P[] {
  if (name === undefined) return pipelines;
  const found = find(name);
  return found === undefined ? [] : [found];
}
