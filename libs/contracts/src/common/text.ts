import { z } from 'zod';

// C0 controls but tab, line feed and carriage return; DEL; C1 controls.
const CONTROL_MULTILINE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/u;
// Every C0 control, DEL and C1 control.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/u;
// What a reader sees as nothing on its own: white space, format characters (zero-width,
// bidi marks, BOM), default-ignorable code points (variation selectors, Hangul fillers),
// braille blank, and combining marks (which need a base character to show on).
const INVISIBLE =
  /[\p{White_Space}\p{Cf}\p{Default_Ignorable_Code_Point}\p{M}\u2800\u3164\uFFA0]/gu;

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

/** Free-shape JSON (event data, metadata) nests at most this deep. */
const MAX_JSON_DEPTH = 32;

function unstorable(text: string): boolean {
  return text.includes('\u0000') || !text.isWellFormed();
}

/**
 * The first problem in a JSON value, with its path: a string or key that cannot be
 * stored (PostgreSQL jsonb refuses NUL and lone surrogates), or nesting deeper than
 * MAX_JSON_DEPTH. Iterative, so a hostile depth cannot overflow the stack.
 */
function jsonProblem(root: unknown): { path: (string | number)[]; message: string } | null {
  const pending: { value: unknown; path: (string | number)[] }[] = [{ value: root, path: [] }];
  while (pending.length) {
    const { value, path } = pending.pop()!;
    if (typeof value === 'string') {
      if (unstorable(value))
        return { path, message: 'must not contain NUL characters or lone surrogates' };
    } else if (value && typeof value === 'object') {
      if (path.length >= MAX_JSON_DEPTH)
        return { path, message: `must not be nested more than ${MAX_JSON_DEPTH} levels deep` };
      for (const [key, inner] of Object.entries(value)) {
        const at = Array.isArray(value) ? Number(key) : key;
        if (unstorable(key))
          return {
            path: [...path, at],
            message: 'must not have keys with NUL characters or lone surrogates',
          };
        pending.push({ value: inner, path: [...path, at] });
      }
    }
  }
  return null;
}

/** A JSON object of free shape (event data, metadata) whose strings can all be stored. */
export function jsonObject(maxBytes = 64 * 1024) {
  return z
    .record(z.string(), z.unknown(), { error: 'must be a JSON object' })
    .superRefine((value, ctx) => {
      const problem = jsonProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
      else if (new TextEncoder().encode(JSON.stringify(value)).length > maxBytes)
        ctx.addIssue({ code: 'custom', message: `must be at most ${maxBytes} bytes as JSON` });
    });
}
