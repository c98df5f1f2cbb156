import type { Command } from 'commander';
import { type Action, later } from '../action.js';
import { configOption, databaseUrlOption, examples, jsonOption, pipelineOption } from '../options.js';

const PLAN_HELP = `
For each pipeline whose table exists, compares the contract (columns, types,
NOT NULL) with the live table and prints the DDL that reconciles them, each
statement with why:
  + added columns (nullable, unless the contract says NOT NULL with a default)
  ~ widenings that keep every value: smallint → integer → bigint,
    varchar(n) → varchar(m ≥ n) → text, numeric(p,s) → numeric with as many
    integer digits and decimals or more, real → double precision,
    timestamp → timestamptz (read in the pipeline's timezone)
  ~ DROP NOT NULL; SET NOT NULL once no row holds NULL
Destructive changes (a column the contract lacks, a narrowing, a type change
that can lose values) are listed apart, with what each would lose, counted in
the table; SET NOT NULL over NULLs is listed as blocked, with the count.
Nothing is changed: inlet apply runs the plan.

Exit codes: 0 nothing to do (every table matches, or does not exist yet),
1 changes to make (or refused), 2 usage or config errors.`;

export function registerPlan(program: Command, action: Action): void {
  program
    .command('plan')
    .summary("show the DDL that brings the pipelines' tables to their contracts")
    .description(
      "Compare each pipeline's contract with its live table and print the DDL that would reconcile them, changing nothing",
    )
    .addOption(pipelineOption('plan only this pipeline'))
    .addOption(configOption())
    .addOption(databaseUrlOption())
    .addOption(jsonOption())
    .addHelpText('after', PLAN_HELP)
    .addHelpText('after', examples('inlet plan', 'inlet plan --pipeline orders --json'))
    .action(action(later(async () => (await import('../run/plan.js')).runPlan)));
}
