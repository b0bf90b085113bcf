import { toParameter } from './statement-batch.js';

describe('bind parameters of a batch (PostgreSQL text format)', () => {
  it('passes strings and numbers as they are, null and undefined as NULL', () => {
    expect(toParameter("it's \\ fine")).toBe("it's \\ fine");
    expect(toParameter(42)).toBe('42');
    expect(toParameter(true)).toBe('true');
    expect(toParameter(null)).toBeNull();
    expect(toParameter(undefined)).toBeNull();
  });

  it('writes a Date as ISO 8601 with its zone, so timestamptz reads the same instant', () => {
    expect(toParameter(new Date(Date.UTC(2026, 10, 30, 7, 0, 0, 123)))).toBe(
      '2026-11-30T07:00:00.123Z',
    );
  });

  it('writes an array as an array literal, every element quoted and escaped', () => {
    expect(toParameter(['pwd', 'otp'])).toBe('{"pwd","otp"}');
    expect(toParameter([])).toBe('{}');
    expect(toParameter(['a "quoted" one', 'back\\slash', 'com,ma {brace}', null])).toBe(
      '{"a \\"quoted\\" one","back\\\\slash","com,ma {brace}",NULL}',
    );
  });

  it('writes any other object as JSON', () => {
    expect(toParameter({ a: 1, b: ['x'] })).toBe('{"a":1,"b":["x"]}');
  });
});
