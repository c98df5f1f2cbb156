/**
 * A process's own peak RSS. Not `process.resourceUsage().maxRSS`: Linux keeps getrusage's high-water
 * mark across exec, so a child that Node forks starts with its parent's resident size at the fork as its
 * peak (a bench that has just written a 200 MB file reports 250-350 MB for a command that used 130).
 * /proc/self/status's VmHWM is the peak of the memory the program itself mapped since exec; elsewhere
 * (no /proc) maxRSS is the figure there is.
 */
import { readFileSync } from 'node:fs';

export function peakRssMb(): number {
  try {
    const hwm = /VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch {
    // Not Linux: below.
  }
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * `node --import` of this prints `peak-rss-mb <n>` to stderr at exit, the same figure as peakRssMb(),
 * for a command run as is (a module of its own, since `--import` takes a URL, not a function).
 */
export const PEAK_RSS_IMPORT = `data:text/javascript,${encodeURIComponent(
  `import { readFileSync } from 'node:fs';
process.on('exit', () => {
  let mb = process.resourceUsage().maxRSS / 1024;
  try {
    const hwm = /VmHWM:\\s*(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) mb = Number(hwm[1]) / 1024;
  } catch {}
  process.stderr.write('peak-rss-mb ' + mb + '\\n');
});`,
)}`;

/** The figure PEAK_RSS_IMPORT printed in a command's stderr; NaN when absent. */
export function peakRssFromStderr(stderr: string): number {
  return Number(/peak-rss-mb ([\d.]+)/.exec(stderr)?.[1] ?? Number.NaN);
}
