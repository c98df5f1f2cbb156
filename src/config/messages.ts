/**
 * zod/mini (the config's validator: a fraction of full zod's start-up cost, and every `inlet` command
 * reads the config) ships no messages until a locale is chosen; issues.ts words most issues itself and
 * takes the rest from these English ones.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
