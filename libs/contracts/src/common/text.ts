import { z } from 'zod';

// C0 controls but tab, line feed and carriage return; DEL; C1 controls.
const CONTROL_MULTILINE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/u;
// Every C0 control, DEL and C1 control.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/u;
// What a reader sees as nothing: white space, format characters (zero-width, bidi marks,
// BOM), default-ignorable code points (variation selectors, Hangul fillers), braille blank.
const INVISIBLE = /[\p{White_Space}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800\u3164\uFFA0]/gu;

function describeControl(value: string, pattern: RegExp): string | undefined {
  const match = pattern.exec(value);
  if (!match) return undefined;
  const code = match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `must not contain control characters (found U+${code})`;
}

/**
 * The check every free-text string of every contract carries: no NUL or other control
 * character (tab and line breaks only where `multiline`), no lone surrogate (text that
 * is not valid Unicode cannot be stored or re-encoded), and, for names, at least one
 * visible character. Exported so that a test can prove every string has it.
 */
export const SAFE_TEXT_CHECKS = {
  singleLine: z.superRefine<string>((value, ctx) => {
    const control = describeControl(value, CONTROL);
    if (control) ctx.addIssue({ code: 'custom', message: control });
    else if (!value.isWellFormed())
      ctx.addIssue({ code: 'custom', message: 'must be valid Unicode (it has a lone surrogate)' });
  }),
  multiline: z.superRefine<string>((value, ctx) => {
    const control = describeControl(value, CONTROL_MULTILINE);
    if (control) ctx.addIssue({ code: 'custom', message: control });
    else if (!value.isWellFormed())
      ctx.addIssue({ code: 'custom', message: 'must be valid Unicode (it has a lone surrogate)' });
  }),
  visible: z.superRefine<string>((value, ctx) => {
    if (value.length > 0 && value.replace(INVISIBLE, '').length === 0)
      ctx.addIssue({ code: 'custom', message: 'must contain at least one visible character' });
  }),
};

export interface TextOptions {
  min?: number;
  max: number;
  /** Allow tab, line feed and carriage return (descriptions, notes). */
  multiline?: boolean;
  /** A name or title: trimmed, and refused when it is only invisible characters. */
  name?: boolean;
}

/**
 * A string as every contract declares one: bounded, free of control characters and
 * lone surrogates, trimmed and visible when it is a name. Messages name the limits.
 */
export function text(options: TextOptions): z.ZodString {
  const min = options.min ?? (options.name ? 1 : 0);
  const range = `a string of ${min} to ${options.max} characters`;
  let schema = z.string({ error: `must be ${range}` });
  if (options.name) schema = schema.trim();
  schema = schema
    .min(min, { error: `must be ${range}` })
    .max(options.max, { error: `must be ${range}` })
    .check(options.multiline ? SAFE_TEXT_CHECKS.multiline : SAFE_TEXT_CHECKS.singleLine);
  return options.name ? schema.check(SAFE_TEXT_CHECKS.visible) : schema;
}

/** A string made of a fixed alphabet (slugs, codes); the pattern excludes control characters itself. */
export function token(pattern: RegExp, message: string, max = 200): z.ZodString {
  return z
    .string({ error: 'must be a string' })
    .max(max, { error: message })
    .regex(pattern, { error: message })
    .check(SAFE_TEXT_CHECKS.singleLine);
}

/** Strings anywhere in a JSON value: NUL and lone surrogates cannot be stored (PostgreSQL jsonb refuses them). */
function badJsonString(value: unknown, path: (string | number)[]): (string | number)[] | null {
  if (typeof value === 'string') {
    return value.includes('\u0000') || !value.isWellFormed() ? path : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = badJsonString(value[i], [...path, i]);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key.includes('\u0000') || !key.isWellFormed()) return [...path, key];
      const found = badJsonString(inner, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}

/** A JSON object of free shape (event data, metadata) whose strings can all be stored. */
export function jsonObject(maxBytes = 64 * 1024) {
  return z
    .record(z.string(), z.unknown(), { error: 'must be a JSON object' })
    .superRefine((value, ctx) => {
      const bad = badJsonString(value, []);
      if (bad)
        ctx.addIssue({
          code: 'custom',
          path: bad,
          message: 'must not contain NUL characters or lone surrogates',
        });
      else if (new TextEncoder().encode(JSON.stringify(value)).length > maxBytes)
        ctx.addIssue({ code: 'custom', message: `must be at most ${maxBytes} bytes as JSON` });
    });
}
