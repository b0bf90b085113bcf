// casbin 5.51.1 and @cedar-policy/cedar-wasm 4.13.0 in the six variants of
// ../shared/anchors/pdp/bench.mjs, built as the anchor builds them (see its README for the
// variants). Each `decide(r)` takes an anchor request { u, dom, perm: 'res:act' }.
import { createRequire } from 'node:module';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { newEnforcer, newModelFromString, StringAdapter } from 'casbin';
import { FOCUS } from './workload.mjs';

export const VERSIONS = {
  casbin: createRequire(import.meta.url)('casbin/package.json').version,
  cedar: cedar.getCedarVersion(),
  cedarWasm: cedar.getCedarSDKVersion?.(),
};

// ---------- casbin ----------
// Faithful model: RBAC with domains, keyMatch for "res:*". Domain test first so the
// linear scan over p-lines short-circuits cheaply.
const CASBIN_MODEL = `
[request_definition]
r = sub, dom, obj
[policy_definition]
p = sub, dom, obj
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = r.dom == p.dom && keyMatch(r.obj, p.obj) && g(r.sub, p.sub, r.dom)
`;
// Variant "graph": permissions become role-graph nodes (g, role, perm:res:act, dom); no p-lines,
// so the matcher runs once per request: two role-graph lookups (exact perm, "res:*").
const CASBIN_GRAPH_MODEL = CASBIN_MODEL.replace(
  /m = .*/,
  'm = g(r.sub, "perm:" + r.obj, r.dom) || g(r.sub, wild(r.obj), r.dom)',
);
const wild = (obj) => `perm:${obj.slice(0, obj.indexOf(':'))}:*`;

async function buildCasbin(w, { tenants = null, graph = false } = {}) {
  const keep = (t) => !tenants || tenants.includes(t);
  const lines = [];
  for (const [qr, perms] of Object.entries(w.rolePerms)) {
    const [t, r] = qr.split('/');
    if (!keep(t)) continue;
    for (const p of perms) lines.push(graph ? `g, ${r}, perm:${p}, ${t}` : `p, ${r}, ${t}, ${p}`);
  }
  for (const [child, parent] of Object.entries(w.roleParent)) {
    const [t, r] = child.split('/');
    if (keep(t)) lines.push(`g, ${r}, ${parent.split('/')[1]}, ${t}`);
  }
  for (const [u, r, t] of w.bindings) if (keep(t)) lines.push(`g, ${u}, ${r}, ${t}`);
  const e = await newEnforcer(
    newModelFromString(graph ? CASBIN_GRAPH_MODEL : CASBIN_MODEL),
    new StringAdapter(lines.join('\n')),
  );
  if (graph) e.addFunction('wild', wild);
  const info = {
    pLines: lines.filter((l) => l.startsWith('p,')).length,
    gLines: lines.filter((l) => l.startsWith('g,')).length,
  };
  return { decide: (r) => e.enforceSync(r.u, r.dom, r.perm), info };
}

// ---------- cedar ----------
// Role ids are tenant-qualified ("t0/r12") since Cedar has no domain concept; the resource id
// carries the tenant ("t0/res3"); "res:*" becomes a policy with an unconstrained action.
// The entity slice passed per call: the user, its roles and their ancestors (precomputed per user,
// as casbin keeps its role graph in memory).
function sliceFor(w, u, { graph, cache }) {
  let s = cache.get(u);
  if (s) return s;
  const qrs = w.userRoles.get(u) ?? [];
  const ents = [
    { uid: { type: 'User', id: u }, attrs: {}, parents: qrs.map((id) => ({ type: 'Role', id })) },
  ];
  const seen = new Set();
  for (const qr of qrs)
    for (const x of w.closure(qr)) {
      if (seen.has(x)) continue;
      seen.add(x);
      const par = w.roleParent[x] ? [{ type: 'Role', id: w.roleParent[x] }] : [];
      if (graph)
        for (const p of w.rolePerms[x]) par.push({ type: 'Perm', id: `${x.split('/')[0]}/${p}` });
      ents.push({ uid: { type: 'Role', id: x }, attrs: {}, parents: par });
    }
  cache.set(u, ents);
  return ents;
}
let psetSeq = 0;
function buildCedar(w, { tenants = null, graph = false } = {}) {
  const keep = (t) => !tenants || tenants.includes(t);
  const out = [];
  if (graph) {
    // Variant "graph": permissions are entities (Role parents include Perm::"t0/res3:read");
    // one policy; the PEP passes the exact and wildcard permission ids in context.
    out.push('permit(principal, action, resource) when { principal in context.required };');
  } else {
    for (const [qr, perms] of Object.entries(w.rolePerms)) {
      const t = qr.split('/')[0];
      if (!keep(t)) continue;
      for (const p of perms) {
        const [res, act] = p.split(':');
        const action = act === '*' ? 'action' : `action == Action::"${act}"`;
        out.push(`permit(principal in Role::"${qr}", ${action}, resource == Res::"${t}/${res}");`);
      }
    }
  }
  const id = `pset${psetSeq++}`;
  const parsed = cedar.preparsePolicySet(id, { staticPolicies: out.join('\n') });
  if (parsed.type !== 'success') throw new Error(JSON.stringify(parsed.errors));
  const cache = new Map();
  const decide = (req) => {
    const [res, act] = req.perm.split(':');
    const call = {
      principal: { type: 'User', id: req.u },
      action: { type: 'Action', id: act },
      resource: { type: 'Res', id: `${req.dom}/${res}` },
      context: graph
        ? {
            required: [
              { __entity: { type: 'Perm', id: `${req.dom}/${req.perm}` } },
              { __entity: { type: 'Perm', id: `${req.dom}/${res}:*` } },
            ],
          }
        : {},
      preparsedPolicySetId: id,
      entities: sliceFor(w, req.u, { graph, cache }),
    };
    const ans = cedar.statefulIsAuthorized(call);
    if (ans.type !== 'success') throw new Error(JSON.stringify(ans.errors));
    return ans.response.decision === 'allow';
  };
  return { decide, info: { policies: out.length } };
}

/** The six anchor engines, by name, each a builder. */
export const ANCHOR_ENGINES = {
  casbin: (w) => buildCasbin(w),
  'casbin-sharded': (w) => buildCasbin(w, { tenants: [FOCUS] }),
  'casbin-graph': (w) => buildCasbin(w, { graph: true }),
  cedar: (w) => buildCedar(w),
  'cedar-sharded': (w) => buildCedar(w, { tenants: [FOCUS] }),
  'cedar-graph': (w) => buildCedar(w, { graph: true }),
};
