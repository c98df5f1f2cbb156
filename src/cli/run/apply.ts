import { createInterface } from 'node:readline/promises';
import { loadConfig } from '../../config/load.js';
import { findPipeline } from '../../config/route.js';
import { applyPlans } from '../../engine/reconcile/apply.js';
import { planTable, statementsToApply, type TablePlan } from '../../engine/reconcile/plan.js';
import { InletError, UsageError } from '../../errors.js';
import { withDatabase } from '../database.js';
import { cliLogger, colourEnabled, note, paint, print } from '../output.js';
import { planJson, planLines, selectPipelines, tableLabel } from '../plan-output.js';
import { namedConfig } from '../settings.js';

interface ApplyOptions {
  pipeline?: string;
  allowDestructive?: boolean;
  yes?: boolean;
  /** Seconds; commander gives its default. */
  lockTimeout: number;
  config?: string;
  databaseUrl?: string;
  json?: boolean;
}

export async function runApply(options: ApplyOptions): Promise<number> {
  const config = await loadConfig(namedConfig(options.config));
  const pipelines = selectPipelines(config.pipelines, options.pipeline, (name) =>
    findPipeline(config, '', name),
  );
  const allowDestructive = options.allowDestructive === true;
  const colours = paint(colourEnabled(process.stdout));
  return withDatabase({ databaseUrl: options.databaseUrl, logger: cliLogger() }, async (db) => {
    const plans: TablePlan[] = [];
    for (const pipeline of pipelines) plans.push(await planTable(db.pool, pipeline));
    if (!options.json) {
      for (const plan of plans)
        for (const line of planLines(plan, colours, allowDestructive)) await print(line);
    }
    const statements = plans.reduce((sum, plan) => sum + statementsToApply(plan, allowDestructive).length, 0);
    const leftOut = plans.flatMap((plan) => [
      ...(allowDestructive ? [] : plan.destructive.map((step) => ({ plan, step }))),
      ...plan.blocked.map((step) => ({ plan, step })),
    ]);
    if (statements > 0 && options.yes !== true) await confirm(statements);
    const applied =
      statements === 0
        ? []
        : await applyPlans(db.pool, pipelines, plans, {
            allowDestructive,
            lockTimeoutMs: options.lockTimeout * 1000,
          });
    for (const plan of plans) {
      const ran = applied.find((entry) => entry.pipeline === plan.pipeline)?.statements ?? [];
      if (options.json) await print(JSON.stringify({ ...planJson(plan), applied: ran }));
      else if (ran.length > 0) {
        await print(
          colours.green(
            `applied ${ran.length} statement${ran.length === 1 ? '' : 's'} to ${tableLabel(plan)} (pipeline ${plan.pipeline})`,
          ),
        );
      }
    }
    if (leftOut.length > 0) {
      const what = leftOut.map(({ plan, step }) => `${tableLabel(plan)} "${step.column}" (${step.action})`);
      throw new InletError(
        'changes_refused',
        `${statements > 0 ? 'Applied the rest, but left' : 'Left'} out ${leftOut.length} change${leftOut.length === 1 ? '' : 's'}: ${what.join(', ')}. ${
          allowDestructive
            ? ''
            : 'Destructive ones run with --allow-destructive (read what each loses above); '
        }blocked ones wait for the data to change.`,
      );
    }
    if (statements === 0 && !options.json) await print('Nothing to do: every table matches its contract.');
    return 0;
  });
}

/** Asks on the terminal; without one (CI, a pipe), refuses rather than wait on a stdin nobody writes to. */
async function confirm(statements: number): Promise<void> {
  if (process.stdin.isTTY !== true) {
    throw new UsageError(
      'confirmation_required',
      `inlet apply has ${statements} statement${statements === 1 ? '' : 's'} to run but no terminal to ask for confirmation on; nothing was changed. Review them with inlet plan, then run inlet apply --yes.`,
    );
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(
      `Run ${statements} statement${statements === 1 ? '' : 's'} in one transaction? Type "yes" to apply: `,
    );
    if (answer.trim().toLowerCase() !== 'yes') {
      note('Nothing was changed.');
      throw new UsageError('confirmation_required', 'not confirmed: nothing was changed');
    }
  } finally {
    prompt.close();
  }
}
