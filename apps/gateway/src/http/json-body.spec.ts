import { AppError } from '@tenantry/contracts';
import { MAX_JSON_DEPTH, parseJsonBody } from './json-body.js';

const JSON_TYPE = { 'content-type': 'application/json' };

function refusal(body: Buffer | string, headers: Record<string, string> = JSON_TYPE) {
  try {
    parseJsonBody(Buffer.isBuffer(body) ? body : Buffer.from(body), headers);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    const { code, message, errors } = error as AppError;
    return { code, message, field: errors?.[0]?.field };
  }
  throw new Error('the body was accepted');
}

describe('parseJsonBody', () => {
  it('parses JSON in UTF-8, with or without a charset', () => {
    const body = Buffer.from('{"name":"Zoë 🚀","n":[1,{"a":null}]}');
    expect(parseJsonBody(body, JSON_TYPE)).toEqual({ name: 'Zoë 🚀', n: [1, { a: null }] });
    expect(
      parseJsonBody(body, { 'content-type': 'application/json; charset="UTF-8"' }),
    ).toMatchObject({ name: 'Zoë 🚀' });
    expect(parseJsonBody(Buffer.from('"a\\"b"'), JSON_TYPE)).toBe('a"b');
  });

  it('refuses another charset or a compressed body (415)', () => {
    expect(refusal('{}', { 'content-type': 'application/json; charset=latin1' })).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: expect.stringContaining('must be JSON in UTF-8, not "latin1"'),
    });
    expect(refusal('{}', { ...JSON_TYPE, 'content-encoding': 'gzip' })).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: expect.stringContaining('"gzip" is not supported'),
    });
  });

  it('refuses bytes that are not UTF-8, an empty body and JSON syntax errors (400)', () => {
    expect(refusal(Buffer.from([0x7b, 0xff, 0x7d]))).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('not valid UTF-8'),
    });
    expect(refusal(' \n')).toMatchObject({ message: expect.stringContaining('is empty') });
    expect(refusal('{"name":')).toMatchObject({
      message: expect.stringContaining('not valid JSON'),
    });
  });

  it('refuses a key sent twice, naming it', () => {
    expect(refusal('{"name":"a","slug":"x","slug":"y"}')).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'slug: appears more than once; send each field once',
      field: 'slug',
    });
    expect(refusal('{"a":[{"b":1},{"c":1,"c":2}]}').field).toBe('a.1.c');
    // The same key in different objects, or an escaped key that only looks alike, is fine.
    expect(
      parseJsonBody(Buffer.from('{"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":2}]}'), JSON_TYPE),
    ).toBeTruthy();
    expect(refusal('{"a":1,"\\u0061":2}').field).toBe('a');
    expect(
      parseJsonBody(Buffer.from('{"a\\"b":1,"a":2,"x":"\\\\","y":"{\\"a\\":1}"}'), JSON_TYPE),
    ).toBeTruthy();
  });

  it('refuses prototype keys', () => {
    expect(refusal('{"__proto__":{"admin":true}}').field).toBe('__proto__');
    expect(refusal('{"a":{"constructor":{"prototype":{}}}}').field).toBe('a.constructor.prototype');
    expect(parseJsonBody(Buffer.from('{"constructor":"x","prototype":1}'), JSON_TYPE)).toBeTruthy();
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels, however deep`, () => {
    const ok = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect(parseJsonBody(Buffer.from(ok), JSON_TYPE)).toBeTruthy();
    for (const depth of [MAX_JSON_DEPTH + 1, 100_000]) {
      const deep = '['.repeat(depth) + ']'.repeat(depth);
      expect(refusal(deep).message).toContain(`nested more than ${MAX_JSON_DEPTH} levels deep`);
    }
  });
});
