/**
 * Docs with a part generated from the code keep it between two HTML comments; the scripts rewrite
 * only that part and the tests under test/unit/docs compare it with what the code gives now.
 */
export interface SectionMarkers {
  readonly begin: string;
  readonly end: string;
}

/** `markdown` with the text between the markers replaced by `body`. */
export function withGeneratedSection(markdown: string, markers: SectionMarkers, body: string): string {
  const begin = markdown.indexOf(markers.begin);
  const end = markdown.indexOf(markers.end, begin);
  if (begin < 0 || end < begin)
    throw new Error(`the generated section's markers are missing: ${markers.begin}`);
  return `${markdown.slice(0, begin + markers.begin.length)}\n${body}\n${markdown.slice(end)}`;
}
