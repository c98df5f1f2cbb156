import { loadConfig } from '../../config/load.js';
import { findPipeline } from '../../config/route.js';
import { planTable, type TablePlan } from '../../engine/reconcile/plan.js';
import { withDatabase } from '../database.js';
import { cliLogger, colourEnabled, paint, print } from '../output.js';
import { hasWork, planJson, planLines, selectPipelines } from '../plan-output.js';
import { namedConfig } from '../settings.js';

interface PlanOptions {
  pipeline?: string;
  config?: string;
  databaseUrl?: string;
  json?: boolean;
}

/** 0 when there is nothing to do, 1 when a table differs from its contract (as `git diff --exit-code`). */
export async function runPlan(options: PlanOptions): Promise<number> {
  const config = await loadConfig(namedConfig(options.config));
  const pipelines = selectPipelines(config.pipelines, options.pipeline, (name) =>
    findPipeline(config, '', name),
  );
  const plans: TablePlan[] = await withDatabase(
    { databaseUrl: options.databaseUrl, logger: cliLogger() },
    async (db) => {
      const planned: TablePlan[] = [];
      for (const pipeline of pipelines) planned.push(await planTable(db.pool, pipeline));
      return planned;
    },
  );
  const colours = paint(colourEnabled(process.stdout));
  for (const plan of plans) {
    if (options.json) await print(JSON.stringify(planJson(plan)));
    else for (const line of planLines(plan, colours)) await print(line);
  }
  const pending = plans.filter(hasWork);
  if (!options.json) await print(summary(plans));
  return pending.length === 0 ? 0 : 1;
}

export function summary(plans: readonly TablePlan[]): string {
  const count = (pick: (plan: TablePlan) => number) => plans.reduce((sum, plan) => sum + pick(plan), 0);
  const changes = count((plan) => plan.changes.length);
  const destructive = count((plan) => plan.destructive.length);
  const blocked = count((plan) => plan.blocked.length);
  if (changes + destructive + blocked === 0) return 'Nothing to do: every table matches its contract.';
  const parts = [
    `${changes} change${changes === 1 ? '' : 's'} to apply`,
    ...(destructive > 0 ? [`${destructive} destructive (refused without --allow-destructive)`] : []),
    ...(blocked > 0 ? [`${blocked} blocked by the data`] : []),
  ];
  return `Plan: ${parts.join(', ')}. inlet apply runs it.`;
}
