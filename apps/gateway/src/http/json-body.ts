import { AppError, ErrorCode } from '@tenantry/contracts';

/** Deeper nesting is refused: no contract nests this deep, and deep values break recursive code. */
export const MAX_JSON_DEPTH = 32;
const MAX_FIELD_NAME = 200;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function invalid(message: string, field?: string): AppError {
  return new AppError(ErrorCode.ValidationFailed, message, field ? { field } : {});
}

/** A path as the contracts name fields (`data.items.0.id`), escaped and bounded. */
function fieldName(path: (string | number)[]): string {
  const printable = JSON.stringify(path.join('.') || '(root)').slice(1, -1);
  return printable.length > MAX_FIELD_NAME ? `${printable.slice(0, MAX_FIELD_NAME)}…` : printable;
}

interface Level {
  /** The keys seen so far in an object; undefined for an array. */
  keys?: Set<string>;
  /** Where the parser is in this object or array: the current key or index. */
  at: string | number;
}

/**
 * One pass over JSON text that JSON.parse has accepted, refusing what it lets through:
 * a key twice in one object (parsers disagree on which value wins), `__proto__` and
 * `constructor.prototype` keys (prototype pollution in code that merges objects), and
 * nesting deeper than MAX_JSON_DEPTH.
 */
function checkStructure(text: string): void {
  const stack: Level[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (expectKey) {
        const top = stack.at(-1)!;
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        const field = () => fieldName([...stack.slice(0, -1).map((l) => l.at), key]);
        if (top.keys!.has(key))
          throw invalid(`${field()}: appears more than once; send each field once`, field());
        const parent = stack.at(-2);
        if (
          key === '__proto__' ||
          (key === 'prototype' && parent?.keys && parent.at === 'constructor')
        )
          throw invalid(`${field()}: this key is not allowed; rename or remove it`, field());
        top.keys!.add(key);
        top.at = key;
        expectKey = false;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      if (stack.length >= MAX_JSON_DEPTH) {
        const path = fieldName(stack.map((l) => l.at));
        throw invalid(
          `${path}: the request body is nested more than ${MAX_JSON_DEPTH} levels deep`,
          path,
        );
      }
      stack.push(c === '{' ? { keys: new Set(), at: '' } : { at: 0 });
      expectKey = c === '{';
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack.at(-1)!;
      if (top.keys) expectKey = true;
      else top.at = (top.at as number) + 1;
    }
  }
}

/**
 * A request body that claims to be JSON, as the gateway accepts it: UTF-8 (a charset
 * parameter, if any, must say so), not compressed, not empty, valid JSON, each key once,
 * no prototype keys, at most MAX_JSON_DEPTH levels. Anything else is a problem that
 * says what to send instead (415 for the wrong encoding, 400 for the wrong content).
 */
export function parseJsonBody(
  body: Buffer,
  headers: { 'content-type'?: string; 'content-encoding'?: string },
): unknown {
  const charset = /;\s*charset\s*=\s*"?([^";]*)"?/i
    .exec(headers['content-type'] ?? '')?.[1]
    ?.trim();
  if (charset && !/^utf-?8$/i.test(charset)) {
    throw new AppError(
      ErrorCode.UnsupportedMediaType,
      `the request body must be JSON in UTF-8, not ${JSON.stringify(charset.slice(0, 40))}: send Content-Type: application/json`,
    );
  }
  const encoding = headers['content-encoding']?.trim();
  if (encoding && encoding.toLowerCase() !== 'identity') {
    throw new AppError(
      ErrorCode.UnsupportedMediaType,
      `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported: send the JSON body uncompressed`,
    );
  }
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    throw invalid('the request body is not valid UTF-8: send JSON encoded as UTF-8');
  }
  if (!text.trim()) throw invalid('the request body is empty: send a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(`the request body is not valid JSON: ${(error as Error).message.slice(0, 200)}`);
  }
  checkStructure(text);
  return value;
}
