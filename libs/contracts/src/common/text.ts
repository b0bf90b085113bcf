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
 * MAX_JSON_DEPTH. The walk goes no deeper than that bound, so a hostile depth cannot
 * overflow the stack. An object's keys are checked before its values, its values last
 * first; `path` is the one array of the walk, copied only for the problem it reports.
 */
function jsonProblem(
  value: unknown,
  path: (string | number)[] = [],
): { path: (string | number)[]; message: string } | null {
  if (typeof value === 'string') {
    return unstorable(value)
      ? { path: [...path], message: 'must not contain NUL characters or lone surrogates' }
      : null;
  }
  if (!value || typeof value !== 'object') return null;
  if (path.length >= MAX_JSON_DEPTH)
    return {
      path: [...path],
      message: `must not be nested more than ${MAX_JSON_DEPTH} levels deep`,
    };
  const keys = Object.keys(value);
  const array = Array.isArray(value);
  for (const key of keys) {
    if (unstorable(key))
      return {
        path: [...path, array ? Number(key) : key],
        message: 'must not have keys with NUL characters or lone surrogates',
      };
  }
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i]!;
    path.push(array ? Number(key) : key);
    const problem = jsonProblem((value as Record<string, unknown>)[key], path);
    path.pop();
    if (problem) return problem;
  }
  return null;
}

/**
 * Whether `text` takes more than `max` bytes in UTF-8 as TextEncoder encodes it (a lone
 * surrogate as U+FFFD), counted without encoding it: each UTF-16 code unit takes 1 to 3
 * bytes, so most texts are decided by their length alone.
 */
function utf8LengthOver(text: string, max: number): boolean {
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code <= 0xdbff && code >= 0xd800 && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 2; // a surrogate pair: 4 bytes for its 2 code units
      i++;
    } else bytes += 2;
  }
  return bytes > max;
}

const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/** A JSON object of free shape (event data, metadata) whose strings can all be stored. */
export function jsonObject(maxBytes = 64 * 1024) {
  return z
    .record(z.string(), z.unknown(), { error: 'must be a JSON object' })
    .superRefine((value, ctx) => {
      const problem = jsonProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
      else if (utf8LengthOver(JSON.stringify(value), maxBytes))
        ctx.addIssue({ code: 'custom', message: `must be at most ${maxBytes} bytes as JSON` });
    });
}
