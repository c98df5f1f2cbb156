/**
 * The CLI as the tests run it: the sources transpiled once per run (esbuild, file by file, no
 * bundling) instead of through tsx in every process the tests start. Each `inlet` process then
 * starts in a fraction of the time, and runs exactly the code in src/.
 *
 * The output mirrors `npm run build`'s dist/ one level below the repository root, so that what the
 * code finds next to itself by import.meta.url (package.json, examples/, the dashboard's files)
 * resolves as it does from dist/, and packages resolve from the repository's node_modules.
 */
import { cp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

export async function buildCliForTests(
  root: string,
): Promise<{ entry: string; remove: () => Promise<void> }> {
  await removeAbandoned(root);
  const outdir = join(root, `.test-dist-${process.pid}`);
  await rm(outdir, { recursive: true, force: true });
  await build({
    entryPoints: [join(root, 'src/**/*.ts')],
    outdir,
    outbase: join(root, 'src'),
    bundle: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  await cp(join(root, 'src/dashboard'), join(outdir, 'dashboard'), { recursive: true });
  return { entry: join(outdir, 'cli/main.js'), remove: () => rm(outdir, { recursive: true, force: true }) };
}

/** Trees left by runs that were killed before their teardown (their process is gone). */
async function removeAbandoned(root: string): Promise<void> {
  for (const name of await readdir(root)) {
    const pid = /^\.test-dist-(\d+)$/.exec(name)?.[1];
    if (pid === undefined || isAlive(Number(pid))) continue;
    await rm(join(root, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
