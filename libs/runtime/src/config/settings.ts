import { z } from 'zod';

/**
 * A whole-number setting from the environment (`"30"` → 30): refused, naming the unit and
 * the range, when it is not a whole number from `min` to `max`
 * ("must be a whole number of seconds from 1 to 3600").
 */
export function wholeNumberSetting(what: string, min: number, max: number) {
  const error = `must be a whole number of ${what} from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/**
 * A comma-separated list setting (`"a, b,,c"` → `['a', 'b', 'c']`; unset or blank: `[]`),
 * each entry checked by `valid`: refused with `expected` when one is not.
 */
export function commaListSetting(valid: (entry: string) => boolean, expected: string) {
  return z
    .string()
    .optional()
    .transform((value) =>
      (value ?? '')
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== ''),
    )
    .refine((entries) => entries.every(valid), { error: expected });
}
