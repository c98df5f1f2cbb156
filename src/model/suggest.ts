/**
 * "Did you mean" hints for unknown config keys: most mistakes are a typo or snake_case
 * (`create_table` for `createTable`), and naming the intended key saves a trip to the docs.
 */
export function unknownKeysMessage(keys: readonly string[], known: readonly string[]): string {
  if (keys.length === 1) {
    const guess = closest(keys[0] ?? '', known);
    return guess === undefined
      ? `unknown key; expected one of: ${known.join(', ')}`
      : `unknown key; did you mean "${guess}"?`;
  }
  const listed = keys.map((key) => {
    const guess = closest(key, known);
    return guess === undefined ? `"${key}"` : `"${key}" (did you mean "${guess}"?)`;
  });
  return `unknown keys ${listed.join(', ')}; expected one of: ${known.join(', ')}`;
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  const folded = fold(word);
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 4)) + 1;
  for (const candidate of candidates) {
    if (fold(candidate) === folded) return candidate;
    const distance = levenshtein(folded, fold(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function fold(word: string): string {
  return word.toLowerCase().replace(/[_\-\s]/g, '');
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
