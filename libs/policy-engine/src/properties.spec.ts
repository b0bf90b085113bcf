// Properties over random policies (fast-check, seeded: the same cases on every run).
import fc from 'fast-check';
import { compile } from './compile.js';
import type { Decision, ReasonKind } from './decision.js';
import type { PolicyDocument } from './document.js';
import { referenceDecide } from './reference.js';
import {
  denyRule,
  extraAllow,
  policy,
  policyAndRequests,
  type Request,
} from './spec/arbitraries.js';
import { PolicyStore } from './store.js';

const SEED = 20261130;
const RUNS = 1000;
/** Generous: 1,000 runs take 1-4 s on this machine; a busy CI machine must not fail them on time. */
const TIMEOUT_MS = 60_000;

const ask = (doc: PolicyDocument | ReturnType<typeof compile>, r: Request): Decision =>
  ('decide' in doc ? doc : compile(doc)).decide(r.principal, r.action, r.resource, r.context);
const essence = (d: Decision) => ({
  allowed: d.allowed,
  kind: d.reason.kind,
  obligations: d.obligations,
});

describe('properties', () => {
  it(
    'the compiled index decides exactly as the reference evaluator',
    () => {
      const seen = new Map<ReasonKind, number>();
      fc.assert(
        fc.property(policyAndRequests(), ([doc, rs]) => {
          const compiled = compile(doc);
          for (const r of rs) {
            const d = compiled.decide(r.principal, r.action, r.resource, r.context);
            const ref = referenceDecide(
              compiled.policy,
              r.principal,
              r.action,
              r.resource,
              r.context,
            );
            expect(essence(d)).toEqual(essence(ref));
            seen.set(d.reason.kind, (seen.get(d.reason.kind) ?? 0) + 1);
          }
        }),
        { seed: SEED, numRuns: RUNS },
      );
      // The random policies reach every outcome (else the property would prove little).
      if (process.env.SHOW_KINDS) console.log(Object.fromEntries(seen));
      for (const kind of [
        'granted',
        'deny-rule',
        'step-up-required',
        'condition-failed',
        'binding-expired',
        'no-grant',
        'outside-api-key-scopes',
        'cross-tenant',
        'invalid-request',
      ] as ReasonKind[]) {
        expect([kind, seen.get(kind) ?? 0]).toEqual([kind, expect.any(Number)]);
        expect(seen.get(kind)).toBeGreaterThan(50);
      }
    },
    TIMEOUT_MS,
  );

  it(
    'adding an allow never turns an allow into a deny',
    () => {
      fc.assert(
        fc.property(
          policyAndRequests(),
          extraAllow,
          fc.nat(),
          fc.constantFrom('permission', 'binding'),
          ([doc, rs], extra, which, how) => {
            const more: PolicyDocument =
              how === 'binding'
                ? {
                    ...doc,
                    roles: [...doc.roles, extra.role],
                    bindings: [...doc.bindings, extra.binding],
                  }
                : {
                    // one more permission on an existing role
                    ...doc,
                    roles: doc.roles.map((role, i) =>
                      i === which % doc.roles.length
                        ? {
                            ...role,
                            permissions: [...(role.permissions ?? []), ...extra.role.permissions],
                          }
                        : role,
                    ),
                  };
            const before = compile(doc);
            const after = compile(more);
            for (const r of rs) {
              if (ask(before, r).allowed)
                expect(essence(ask(after, r))).toMatchObject({ allowed: true });
            }
          },
        ),
        { seed: SEED + 1, numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'adding a deny never turns a deny into an allow',
    () => {
      fc.assert(
        fc.property(
          policyAndRequests().chain(([doc, rs]) =>
            fc.tuple(fc.constant(doc), fc.constant(rs), denyRule(doc.roles.length, 'extra-deny')),
          ),
          ([doc, rs, rule]) => {
            const before = compile(doc);
            const after = compile({ ...doc, denyRules: [...(doc.denyRules ?? []), rule] });
            for (const r of rs) {
              if (!ask(before, r).allowed)
                expect(essence(ask(after, r))).toMatchObject({ allowed: false });
            }
          },
        ),
        { seed: SEED + 2, numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    "a decision never depends on another tenant's data",
    () => {
      fc.assert(
        fc.property(
          policyAndRequests('acme'),
          policy('other'),
          policy('other'),
          ([acme, rs], other1, other2) => {
            const [a, o1, o2] = [compile(acme), compile(other1), compile(other2)];
            const store = (...policies: ReturnType<typeof compile>[]) => {
              const s = new PolicyStore({ maxAgeMs: 60_000 });
              for (const p of policies) s.put(p);
              return s;
            };
            const one = store(a, o1);
            const two = store(a, o2);
            const acmeAlone = store(a);
            const otherAlone = store(o1);
            for (const r of rs) {
              const args = [r.principal, r.action, r.resource, r.context] as const;
              const d = one.decide('acme', ...args);
              expect(two.decide('acme', ...args)).toEqual(d);
              expect(acmeAlone.decide('acme', ...args)).toEqual(d);
              // A principal of the other tenant gets nothing here, whatever either policy says.
              if (r.principal.tenantId === 'other') expect(d.reason.kind).toBe('cross-tenant');
              // And the other tenant's decisions do not depend on acme's policy.
              expect(otherAlone.decide('other', ...args)).toEqual(one.decide('other', ...args));
            }
          },
        ),
        { seed: SEED + 3, numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );
});
