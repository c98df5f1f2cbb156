/** One row of the table `npm run bench` prints: a figure, Inlet's value, the same-run reference, the ratio. */
export function tableRow(label: string, value: string, reference = '', ratio = ''): string {
  return `${label.padEnd(44)} ${value.padStart(14)} ${reference.padStart(22)} ${ratio.padStart(10)}`;
}
