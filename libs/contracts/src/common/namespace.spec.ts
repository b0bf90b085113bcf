import { Namespace } from './namespace.js';

describe('Namespace', () => {
  it('leaves names alone when empty', () => {
    const ns = new Namespace('');
    expect(ns.subject('audit.t.x')).toBe('audit.t.x');
    expect(ns.rpcSubject('audit.events.list')).toBe('rpc.audit.events.list');
    expect(ns.stream('AUDIT')).toBe('AUDIT');
    expect(ns.database('audit')).toBe('tenantry_audit');
    expect(ns.redisPrefix()).toBe('tenantry:');
  });

  it('prefixes every name when set', () => {
    const ns = new Namespace('t1');
    expect(ns.subject('audit.t.x')).toBe('t1.audit.t.x');
    expect(ns.unprefix('t1.audit.t.x')).toBe('audit.t.x');
    expect(ns.rpcSubject('audit.events.list')).toBe('t1.rpc.audit.events.list');
    expect(ns.stream('AUDIT')).toBe('T1_AUDIT');
    expect(ns.database('audit')).toBe('tenantry_t1_audit');
    expect(ns.redisPrefix()).toBe('tenantry:t1:');
  });

  it('rejects names that would break subjects, streams or databases', () => {
    expect(() => new Namespace('a.b')).toThrow(/namespace "a.b" is invalid/);
    expect(() => new Namespace('Upper')).toThrow(/invalid/);
    expect(() => new Namespace('1abc')).toThrow(/invalid/);
  });
});
