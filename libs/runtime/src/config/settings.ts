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
