import type { z } from 'zod';
import * as contracts from '../index.js';
import { Cursor } from './cursor.js';
import { AppError, ErrorCode, MAX_FIELD_ERRORS } from './errors.js';
import { integer, strictObject, UuidSchema } from './primitives.js';
import type { RpcContract } from './rpc.js';
import { jsonObject, SAFE_TEXT_CHECKS, text } from './text.js';
import { ContractValidationError, parseContract } from './validation.js';

type Def = {
  type: string;
  format?: string;
  checks?: unknown[];
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  out?: z.ZodType;
  element?: z.ZodType;
  items?: z.ZodType[];
  rest?: z.ZodType | null;
  valueType?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
  getter?: () => z.ZodType;
};

const defOf = (schema: z.ZodType) => schema._zod.def as unknown as Def;

// Types with no strings inside them.
const LEAVES = new Set([
  'number',
  'int',
  'boolean',
  'bigint',
  'literal',
  'enum',
  'unknown',
  'any',
  'null',
  'undefined',
  'void',
  'never',
  'nan',
  'date',
  'transform',
]);
// Types that wrap one schema in `innerType`.
const WRAPPERS = new Set([
  'optional',
  'nullable',
  'default',
  'prefault',
  'nonoptional',
  'readonly',
  'catch',
  'success',
]);
const SAFE = new Set<unknown>(Object.values(SAFE_TEXT_CHECKS));

interface StringNode {
  path: string;
  safe: boolean;
}

/** Every string schema reachable from `schema`, each with whether it refuses control characters. */
function stringsOf(schema: z.ZodType, path: string, found: StringNode[] = []): StringNode[] {
  const def = defOf(schema);
  const at = (child: string) => (path ? `${path}.${child}` : child);
  if (def.type === 'string') {
    found.push({
      path,
      safe: def.format !== undefined || (def.checks ?? []).some((check) => SAFE.has(check)),
    });
  } else if (def.type === 'object') {
    for (const [key, child] of Object.entries(def.shape!)) stringsOf(child, at(key), found);
  } else if (WRAPPERS.has(def.type)) {
    stringsOf(def.innerType!, path, found);
  } else if (def.type === 'union') {
    def.options!.forEach((option, i) => stringsOf(option, at(`<option ${i}>`), found));
  } else if (def.type === 'pipe') {
    stringsOf(def.in!, path, found);
    stringsOf(def.out!, path, found);
  } else if (def.type === 'array') {
    stringsOf(def.element!, at('[]'), found);
  } else if (def.type === 'tuple') {
    def.items!.forEach((item, i) => stringsOf(item, at(String(i)), found));
    if (def.rest) stringsOf(def.rest, at('[]'), found);
  } else if (def.type === 'record') {
    // Keys of free-shape JSON are checked by jsonObject's own refinement (below).
    stringsOf(def.valueType!, at('{}'), found);
  } else if (def.type === 'intersection') {
    stringsOf(def.left!, path, found);
    stringsOf(def.right!, path, found);
  } else if (def.type === 'lazy') {
    stringsOf(def.getter!(), path, found);
  } else if (!LEAVES.has(def.type)) {
    throw new Error(`${path || '(root)'}: the walk does not know zod type "${def.type}"`);
  }
  return found;
}

function isRpcContract(value: unknown): value is RpcContract {
  return (
    !!value &&
    typeof value === 'object' &&
    typeof (value as RpcContract).subject === 'string' &&
    '_zod' in ((value as RpcContract).request ?? {}) &&
    '_zod' in ((value as RpcContract).response ?? {})
  );
}

/** Every request an RPC contract takes, every public event, and every request-side schema exported. */
function inboundSchemas(): Map<string, z.ZodType> {
  const schemas = new Map<string, z.ZodType>();
  for (const [name, value] of Object.entries(contracts)) {
    if (isRpcContract(value)) schemas.set(`${name}.request`, value.request);
    else if (value && typeof value === 'object' && !('_zod' in value)) {
      for (const [key, inner] of Object.entries(value)) {
        if (isRpcContract(inner)) schemas.set(`${name}.${key}.request`, inner.request);
      }
    }
  }
  for (const service of contracts.BACKEND_SERVICES) {
    schemas.set(`healthCheckRpc(${service}).request`, contracts.healthCheckRpc(service).request);
  }
  for (const [name, value] of Object.entries(contracts)) {
    if (/RequestSchema$|^PageQuerySchema$/.test(name)) schemas.set(name, value as z.ZodType);
  }
  schemas.set('AuditEventV1Schema', contracts.AuditEventV1Schema);
  schemas.set('AuditEventSchema', contracts.AuditEventSchema);
  return schemas;
}

function issuesOf(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  return result.success ? [] : result.error.issues.map((issue) => issue.message);
}

describe('every string in every request and event contract refuses control characters', () => {
  const schemas = inboundSchemas();

  it('finds the RPC contracts and the public event schema', () => {
    expect([...schemas.keys()]).toEqual(
      expect.arrayContaining([
        'TenantRpc.create.request',
        'TenantRpc.get.request',
        'TenantRpc.list.request',
        'AuditEventRpc.list.request',
        'healthCheckRpc(tenants).request',
        'AuditEventV1Schema',
      ]),
    );
  });

  it('each string has a format (uuid, date-time) or one of SAFE_TEXT_CHECKS', () => {
    const all = [...schemas].flatMap(([name, schema]) =>
      stringsOf(schema, '').map((node) => ({ ...node, path: `${name}: ${node.path}` })),
    );
    // The walk reaches the strings it must (else this test would prove nothing).
    expect(all.map((n) => n.path)).toEqual(
      expect.arrayContaining([
        'TenantRpc.create.request: name',
        'TenantRpc.create.request: slug',
        'TenantRpc.list.request: cursor',
        'AuditEventV1Schema: actor.id',
        'AuditEventV1Schema: actor.name',
        'AuditEventV1Schema: target.type',
        'AuditEventV1Schema: requestId',
        'AuthzCheckRequestSchema: resource',
        'AuthzCheckRequestSchema: principal.groups.[]',
        'AuthzCheckRequestSchema: context.attributes.{}.<option 0>',
        'AuthzExplainRequestSchema: context.ip',
      ]),
    );
    expect(all.filter((n) => !n.safe).map((n) => n.path)).toEqual([]);
  });

  it('refuses NUL, a C0 and a C1 control, and a lone surrogate in each free-text field of an event', () => {
    const event = {
      schemaVersion: 1,
      id: '01a22add-94c3-7000-8000-000000000001',
      tenantId: '01a22add-94c3-7000-8000-000000000002',
      occurredAt: '2026-11-30T05:00:00Z',
      category: 'billing',
      action: 'invoice.paid',
      outcome: 'success',
      actor: { type: 'service', id: 'worker', name: 'Worker' },
      target: { type: 'invoice', id: 'inv_1' },
      requestId: 'req-1',
    };
    expect(issuesOf(contracts.AuditEventV1Schema, event)).toEqual([]);
    const fields: [string, (bad: string) => unknown][] = [
      ['actor.id', (bad) => ({ ...event, actor: { ...event.actor, id: bad } })],
      ['actor.name', (bad) => ({ ...event, actor: { ...event.actor, name: bad } })],
      ['target.type', (bad) => ({ ...event, target: { ...event.target, type: bad } })],
      ['target.id', (bad) => ({ ...event, target: { ...event.target, id: bad } })],
      ['requestId', (bad) => ({ ...event, requestId: bad })],
      ['category', (bad) => ({ ...event, category: bad })],
    ];
    for (const [field, withValue] of fields) {
      for (const bad of ['a\u0000b', 'a\u0007b', 'a\u0085b', 'x\ud800y']) {
        const result = contracts.AuditEventV1Schema.safeParse(withValue(bad));
        expect({ field, bad, success: result.success }).toEqual({ field, bad, success: false });
        expect(result.error!.issues.map((i) => i.path.join('.'))).toContain(field);
      }
    }
  });
});

describe('text()', () => {
  const name = text({ max: 200, name: true });
  const line = text({ max: 200 });
  const notes = text({ max: 200, multiline: true });

  it.each([
    '\u0000',
    'a\u0000b',
    '\u0007',
    '\u001b[31m',
    '\u007f',
    '\u0085',
    '\u009f',
    'x\ud800y',
    'x\udc00',
  ])('refuses %j', (bad) => {
    expect(issuesOf(name, bad).length).toBeGreaterThan(0);
    expect(issuesOf(line, bad).length).toBeGreaterThan(0);
  });

  it('says which character is wrong', () => {
    expect(issuesOf(line, 'a\u0000b')).toEqual([
      'must not contain control characters (found U+0000)',
    ]);
    expect(issuesOf(line, 'x\ud800y')).toEqual(['must be valid Unicode (it has a lone surrogate)']);
  });

  it.each(['\u200b\u200b', '   ', '\u200f\u202e', '\ufeff', '\u3164', '\u2800', '\u0301\u0301'])(
    'refuses the invisible-only name %j',
    (bad) => {
      expect(issuesOf(name, bad).length).toBeGreaterThan(0);
    },
  );

  it('accepts ordinary names in any script, trimmed', () => {
    expect(name.parse('Zoë 🚀')).toBe('Zoë 🚀');
    expect(name.parse('  Acme Corp ')).toBe('Acme Corp');
    expect(name.parse('شركة')).toBe('شركة');
    expect(name.parse('\u200fשלום')).toBe('\u200fשלום');
    expect(name.parse('e\u0301')).toBe('e\u0301');
    expect(name.parse('नमस्ते')).toBe('नमस्ते');
  });

  it('allows tab and line breaks only when multiline', () => {
    expect(notes.parse('one\ntwo\r\n\tthree')).toBe('one\ntwo\r\n\tthree');
    expect(issuesOf(notes, 'one\u0000two').length).toBeGreaterThan(0);
    expect(issuesOf(notes, 'x\ud800').length).toBeGreaterThan(0);
    expect(issuesOf(line, 'one\ntwo').length).toBeGreaterThan(0);
  });

  it('names its limits', () => {
    expect(issuesOf(name, 'x'.repeat(201))).toEqual(['must be a string of 1 to 200 characters']);
    expect(issuesOf(name, 42)).toEqual(['must be a string of 1 to 200 characters']);
  });
});

describe('integer()', () => {
  const limit = integer(1, 500);

  it.each([
    '1e2',
    '0x10',
    ' 10',
    '10 ',
    '10.0',
    '',
    '-1',
    '+1',
    '1.5',
    '١٠',
    '10\u0000',
    'Infinity',
  ])('refuses %j', (bad) => {
    expect(issuesOf(limit, bad)).toEqual(['must be an integer from 1 to 500']);
  });

  it.each([0, 501, 1.5, -1, Number.NaN, '0', '501', ['1', '2'], null])('refuses %j', (bad) => {
    expect(issuesOf(limit, bad)).toEqual(['must be an integer from 1 to 500']);
  });

  it('accepts decimal digits and JSON integers', () => {
    expect(limit.parse('10')).toBe(10);
    expect(limit.parse('010')).toBe(10);
    expect(limit.parse(10)).toBe(10);
    expect(limit.parse('500')).toBe(500);
  });
});

describe('strictObject()', () => {
  it('lists a few of 20,000 unknown keys, and counts the rest, in under 1 KB', () => {
    const schema = strictObject({ name: text({ max: 10, name: true }) });
    const body: Record<string, unknown> = { name: 'ok' };
    for (let i = 0; i < 20_000; i++) body[`key_${i}_${'x'.repeat(50)}`] = i;
    let error: ContractValidationError | undefined;
    try {
      parseContract(schema, body, 'request body');
    } catch (thrown) {
      error = thrown as ContractValidationError;
    }
    expect(error).toBeInstanceOf(ContractValidationError);
    expect(error!.message).toMatch(/unknown field\(s\): key_0_x+…, .* and 19990 more$/);
    expect(error!.message.length).toBeLessThan(1024);
    expect(JSON.stringify(error!.toBody()).length).toBeLessThan(2048);
  });

  it('escapes hostile key names', () => {
    const schema = strictObject({});
    expect(issuesOf(schema, { 'a\u0000b': 1 })).toEqual(['unknown field(s): a\\u0000b']);
    expect(issuesOf(schema, [])).toEqual(['must be a JSON object']);
  });
});

describe('field errors are capped', () => {
  it(`lists the first ${MAX_FIELD_ERRORS} issues and counts them all`, () => {
    const schema = text({ max: 5 }).array();
    let error: ContractValidationError | undefined;
    try {
      parseContract(
        schema,
        Array.from({ length: 25 }, () => 'x'.repeat(10)),
      );
    } catch (thrown) {
      error = thrown as ContractValidationError;
    }
    expect(error!.errors).toHaveLength(MAX_FIELD_ERRORS);
    expect(error!.errorCount).toBe(25);
    expect(error!.message).toMatch(/; and 5 more$/);
    expect(error!.toBody()).toMatchObject({ errorCount: 25 });
  });

  it('AppError keeps the first 20 of its field errors and their count', () => {
    const errors = Array.from({ length: 25 }, (_, i) => ({ field: `f${i}`, message: 'bad' }));
    const error = new AppError(ErrorCode.ValidationFailed, 'bad', { errors });
    expect(error.errors).toHaveLength(MAX_FIELD_ERRORS);
    expect(error.errorCount).toBe(25);
    expect(AppError.fromBody(error.toBody()).errorCount).toBe(25);
  });
});

describe('Cursor', () => {
  const key = strictObject({}).or(UuidSchema.array().length(1));

  it('round-trips a key', () => {
    const id = '01a22add-94c3-7000-8000-000000000001';
    const cursor = Cursor.encode([id]);
    expect(cursor).toMatch(contracts.CURSOR_PATTERN);
    expect(Cursor.decode(cursor, key)).toEqual([id]);
  });

  it.each([
    'abc',
    '!!!',
    '',
    Buffer.from('not json').toString('base64url'),
    Buffer.from('["not-a-uuid"]').toString('base64url'),
    Buffer.from('[1,2,3]').toString('base64url'),
    Buffer.from([0xff, 0xfe]).toString('base64url'),
  ])('refuses the forged cursor %j with a 400 naming cursor', (forged) => {
    let error: unknown;
    try {
      Cursor.decode(forged, UuidSchema.array().length(1));
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ContractValidationError);
    expect((error as ContractValidationError).code).toBe(ErrorCode.ValidationFailed);
    expect((error as ContractValidationError).errors).toEqual([
      { field: 'cursor', message: expect.stringContaining('previous page') },
    ]);
  });
});

describe('jsonObject()', () => {
  const data = jsonObject(1024);

  it('accepts any storable JSON object', () => {
    const value = { a: [1, 'two', { three: true, 'tab\there': 'line\nbreak' }], b: null };
    expect(data.parse(value)).toEqual(value);
  });

  it('refuses a NUL or a lone surrogate in a nested key or value, naming where', () => {
    const paths = (value: unknown) =>
      data.safeParse(value).error?.issues.map((issue) => issue.path.join('.'));
    expect(paths({ a: { b: 'x\u0000' } })).toEqual(['a.b']);
    expect(paths({ a: [{ 'k\u0000': 1 }] })).toEqual(['a.0.k\u0000']);
    expect(paths({ a: ['ok', 'x\ud800'] })).toEqual(['a.1']);
  });

  it('refuses deep nesting without overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(issuesOf(data, { deep })).toEqual(['must not be nested more than 32 levels deep']);
  });

  it('refuses more than its size', () => {
    expect(issuesOf(data, { big: 'x'.repeat(2000) })).toEqual([
      'must be at most 1024 bytes as JSON',
    ]);
    expect(issuesOf(data, [])).toEqual(['must be a JSON object']);
  });

  it('counts the size in UTF-8 bytes, as TextEncoder encodes the JSON', () => {
    const sized = (text: string) => new TextEncoder().encode(JSON.stringify({ s: text })).length;
    for (const unit of ['é', '€', '😀', 'a']) {
      let text = '';
      while (sized(text + unit) <= 1024) text += unit;
      expect(sized(text)).toBeLessThanOrEqual(1024);
      expect(issuesOf(data, { s: text })).toEqual([]);
      expect(issuesOf(data, { s: text + unit })).toEqual(['must be at most 1024 bytes as JSON']);
    }
  });
});
