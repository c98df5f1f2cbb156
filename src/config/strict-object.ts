import * as z from 'zod/mini';
import './messages.js';
import { unknownKeysMessage } from '../model/suggest.js';

/** Objects reject unknown keys, naming the likely intended key, since a misspelt option silently ignored is worse. */
export function strict<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? unknownKeysMessage(issue.keys, known) : undefined,
  });
}
