import type {
  AccessReviewReport,
  AuditReport,
  ConfigurationChangesReport,
  ReportEvent,
  SignInStats,
  SubjectAccessReport,
} from '@tenantry/contracts';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text as HTML: every character that could open markup or end an attribute escaped. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const esc = escapeHtml;

const TITLES: Record<AuditReport['kind'], string> = {
  'access-review': 'Access review (SOC 2)',
  'subject-access': 'Subject access report (GDPR art. 15)',
  'configuration-changes': 'Configuration change history',
};

const STYLE = `
@page { size: A4 landscape; margin: 12mm; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: #1a1a1a; margin: 0 auto; padding: 1.5em; max-width: 1100px; }
h1 { font-size: 1.7em; margin: 0 0 .2em; }
h2 { font-size: 1.25em; margin: 1.6em 0 .5em; border-bottom: 2px solid #333; padding-bottom: .15em;
  break-after: avoid; }
h3 { font-size: 1.05em; margin: 1.2em 0 .4em; break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: .4em 0 1em; }
th, td { border: 1px solid #bbb; padding: .25em .45em; text-align: left; vertical-align: top; }
thead { display: table-header-group; }
thead th { background: #eee; }
tr { break-inside: avoid; }
table.meta th { width: 13em; background: #f5f5f5; }
code, .mono { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: .9em;
  overflow-wrap: anywhere; }
pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; font-size: .85em; }
.num { text-align: right; white-space: nowrap; }
.muted { color: #666; }
.box { border: 2px solid #b00; background: #fff4f4; padding: .5em 1em; margin: 1em 0; }
.note { border-left: 4px solid #888; background: #f7f7f7; padding: .4em .8em; margin: .6em 0; }
.admin { font-weight: 600; }
.fail { color: #a00; }
footer { margin-top: 2em; font-size: .85em; color: #555; border-top: 1px solid #bbb; padding-top: .5em; }
`;

function table(headers: string[], rows: string[][], empty: string): string {
  if (!rows.length) return `<p class="muted">${esc(empty)}</p>`;
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>
${rows.map((cells) => `<tr>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('\n')}
</tbody></table>`;
}

function code(value: unknown): string {
  return `<code>${esc(value)}</code>`;
}

/**
 * A before/after state: an object as one `field: value` line per field (strings as they
 * are, anything else as JSON), anything else as JSON; escaped either way.
 */
function state(value: unknown): string {
  if (value === null || value === undefined) return '<span class="muted">—</span>';
  if (typeof value !== 'object' || Array.isArray(value))
    return `<pre>${esc(JSON.stringify(value, null, 2))}</pre>`;
  const lines = Object.entries(value as Record<string, unknown>).map(
    ([key, inner]) =>
      `<span class="muted">${esc(key)}:</span> ${esc(typeof inner === 'string' ? inner : JSON.stringify(inner))}`,
  );
  return `<pre>${lines.join('\n') || '{}'}</pre>`;
}

function orDash(value: unknown): string {
  return value === null || value === undefined || value === '' ? '—' : esc(value);
}

/** Who people are, by user id, as identity named them (for principals the event does not name). */
type Names = ReadonlyMap<string, string>;

function principal(p: { type: string; id: string; name?: string | null }, names?: Names): string {
  const name = p.name ?? names?.get(p.id);
  return `${name ? `${esc(name)}<br>` : ''}<span class="muted">${esc(p.type)}</span> ${code(p.id)}`;
}

function reasons(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  return entries.length ? entries.map(([why, n]) => `${esc(why)}: ${esc(n)}`).join('<br>') : '—';
}

/** The truncation notice of a list, when it is cut. */
function truncation(list: { truncated: { message: string } | null }): string {
  return list.truncated
    ? `<p class="box"><strong>Not complete:</strong> ${esc(list.truncated.message)}</p>`
    : '';
}

function eventsTable(
  events: (ReportEvent & { area?: string })[],
  withArea = false,
  names?: Names,
): string {
  return table(
    [
      'Seq',
      'When (UTC)',
      ...(withArea ? ['Area'] : []),
      'Action',
      'Who',
      'What',
      'Before',
      'After',
    ],
    events.map((e) => [
      `<span class="mono">${esc(e.seq)}</span>`,
      `<span class="mono">${esc(e.occurredAt)}</span>`,
      ...(withArea ? [esc(e.area ?? '')] : []),
      `${code(e.action)}${e.outcome === 'failure' ? ' <span class="fail">(failure)</span>' : ''}`,
      `${principal(e.actor, names)}${e.onBehalfOf ? `<br><span class="muted">for</span> ${esc(e.onBehalfOf.type)} ${code(e.onBehalfOf.id)}` : ''}`,
      `${esc(e.summary)}${e.reason ? `<br><span class="muted">reason:</span> ${esc(e.reason)}` : ''}`,
      state(e.changes?.before),
      state(e.changes?.after),
    ]),
    'No events in the period.',
  );
}

function header(report: AuditReport): string {
  const { ledger } = report;
  const checkpoint = ledger.checkpoint
    ? `tree size ${code(ledger.checkpoint.treeSize)}, root hash ${code(ledger.checkpoint.rootHash)}, key ${code(ledger.checkpoint.keyId)}, issued ${code(ledger.checkpoint.issuedAt)}${ledger.checkpoint.kind === 'tombstone' ? ' (tombstone)' : ''}`
    : '<strong>none yet</strong>: no signed checkpoint covers this chain; the listed events cannot be proven yet';
  return `<header>
<h1>${esc(TITLES[report.kind])}</h1>
<table class="meta"><tbody>
<tr><th>Tenant</th><td>${code(report.tenantId)}</td></tr>
<tr><th>Period (UTC)</th><td>from ${code(report.period.from)} (inclusive) to ${code(report.period.to)} (exclusive)</td></tr>
<tr><th>Generated</th><td>${code(report.generatedAt)} for ${esc(report.generatedBy.type)} ${code(report.generatedBy.id)}</td></tr>
<tr><th>Report id</th><td>${code(report.reportId)} (the <code>audit.report.generated</code> event recording this report)</td></tr>
<tr><th>Ledger read through</th><td>seq ${code(ledger.throughSeq)}${ledger.prunedThroughSeq !== null ? `; entries through seq ${code(ledger.prunedThroughSeq)} were removed by retention` : ''}</td></tr>
<tr><th>Latest checkpoint</th><td>${checkpoint}</td></tr>
</tbody></table>
</header>`;
}

function missingAndNotes(report: AuditReport): string {
  const missing = report.missingSections.length
    ? `<section class="box"><h2>Missing sections</h2><p>These parts of the report could not be filled; the rest is complete.</p><ul>${report.missingSections
        .map(
          (m) =>
            `<li><strong>${esc(m.section)}</strong> (from ${esc(m.source)}): ${esc(m.reason)}</li>`,
        )
        .join('')}</ul></section>`
    : '';
  const notes = report.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('\n');
  return missing + notes;
}

function signIns(stats: SignInStats): string[] {
  return [
    `<span class="num">${esc(stats.count)}</span>`,
    orDash(stats.last),
    `<span class="num${stats.failed.count ? ' fail' : ''}">${esc(stats.failed.count)}</span>`,
    orDash(stats.failed.last),
    reasons(stats.failed.reasons),
  ];
}

function accessReview(report: AccessReviewReport): string {
  const names: Names = new Map(
    (report.users?.items ?? []).map((u) => [u.id, `${u.displayName} <${u.email}>`]),
  );
  const users = report.users
    ? `${truncation(report.users)}${table(
        [
          'User',
          'Status',
          'Identity roles',
          'Policy roles',
          'MFA',
          'Last sign-in (ever)',
          'Sign-ins',
          'Last sign-in',
          'Failed',
          'Last failure',
          'Failure reasons',
          'Actions',
          'Denied',
          'Privilege changes',
        ],
        report.users.items.map((u) => [
          `<span class="${u.admin ? 'admin' : ''}">${esc(u.displayName)}</span><br>${esc(u.email)}<br>${code(u.id)}${u.admin ? '<br><strong>admin</strong>' : ''}`,
          esc(u.status),
          u.roles.map(esc).join('<br>') || '—',
          u.policyRoles === null
            ? '<span class="muted">unknown</span>'
            : u.policyRoles
                .map(
                  (r) =>
                    `${code(r.roleId)}${r.admin ? ' <strong>(admin)</strong>' : ''} <span class="muted">via ${esc(r.via)}</span>`,
                )
                .join('<br>') || '—',
          u.mfaEnabled ? 'yes' : 'no',
          orDash(u.lastLoginAt),
          ...signIns(u.activity.signIns),
          `<span class="num">${esc(u.activity.actions)}</span>`,
          `<span class="num">${esc(u.activity.denied)}</span>`,
          `<span class="num">${esc(u.activity.privilegeChanges)}</span>`,
        ]),
        'Identity lists no users.',
      )}`
    : '<p class="box">Not available: see Missing sections.</p>';
  const unused = report.unusedPrivileges
    ? table(
        ['User', 'Status', 'Admin roles', 'Last sign-in (ever)'],
        report.unusedPrivileges.map((u) => [
          `${esc(u.displayName)}<br>${esc(u.email)}<br>${code(u.userId)}`,
          esc(u.status),
          u.adminRoles.map(code).join('<br>'),
          orDash(u.lastLoginAt),
        ]),
        'Every user holding an admin role signed in during the period.',
      )
    : '<p class="box">Not available: see Missing sections.</p>';
  const bindings = report.roleBindings
    ? table(
        ['Binding', 'Role', 'Subject', 'Scope', 'Expires'],
        report.roleBindings.map((b) => [
          code(b.id),
          `${code(b.roleId)}${b.roleName ? ` ${esc(b.roleName)}` : ''}${b.admin ? ' <strong>(admin)</strong>' : ''}`,
          `${esc(b.subject.type)} ${code(b.subject.id)}`,
          orDash(b.scope),
          orDash(b.expiresAt),
        ]),
        'The policy has no role bindings.',
      )
    : '<p class="box">Not available: see Missing sections.</p>';
  const others = table(
    [
      'Principal',
      'Sign-ins',
      'Last sign-in',
      'Failed',
      'Last failure',
      'Failure reasons',
      'Actions',
      'Denied',
      'Last activity',
    ],
    report.otherActivity.map((a) => [
      principal(a.principal),
      ...signIns(a.signIns),
      `<span class="num">${esc(a.actions)}</span>`,
      `<span class="num">${esc(a.denied)}</span>`,
      orDash(a.lastActivityAt),
    ]),
    'None.',
  );
  const unattributed = report.unattributedFailedSignIns;
  return `<section><h2>Users, roles and use</h2>
<p>Every user identity lists, with their roles and what they did in the period. Admins hold a role granting every permission.</p>
${users}</section>
<section><h2>Unused privileges</h2>
<p>Users holding an admin role who did not sign in during the period: candidates for removal.</p>
${unused}</section>
<section><h2>Role bindings</h2>${bindings}</section>
<section><h2>Privilege changes</h2>
<p>Role grants, user lifecycle, role and binding changes, API keys: ${esc(report.privilegeChanges.total)} in the period.</p>
${truncation(report.privilegeChanges)}${eventsTable(report.privilegeChanges.items, false, names)}</section>
<section><h2>Other principals' activity</h2>
<p>API keys, operators and users identity did not list (deleted users, or everyone when identity did not answer).</p>
${others}</section>
<section><h2>Failed sign-ins naming no user</h2>
<p>${esc(unattributed.count)} failed attempts (unknown email, refused SSO assertion)${unattributed.last ? `, the last at ${code(unattributed.last)}` : ''}.</p>
<p>${reasons(unattributed.reasons)}</p></section>`;
}

function subjectAccess(report: SubjectAccessReport): string {
  const p = report.profile;
  const names: Names = new Map(p ? [[p.id, `${p.displayName} <${p.email}>`]] : []);
  const profile = p
    ? `<table class="meta"><tbody>
<tr><th>Id</th><td>${code(p.id)}</td></tr>
<tr><th>Email</th><td>${esc(p.email)}</td></tr>
<tr><th>Display name</th><td>${esc(p.displayName)}</td></tr>
<tr><th>Status</th><td>${esc(p.status)}</td></tr>
<tr><th>Roles</th><td>${p.roles.map(esc).join(', ') || '—'}</td></tr>
<tr><th>MFA</th><td>${p.mfaEnabled ? 'enabled' : 'not enabled'}</td></tr>
<tr><th>Created</th><td>${code(p.createdAt)}</td></tr>
<tr><th>Updated</th><td>${code(p.updatedAt)}</td></tr>
<tr><th>Last sign-in</th><td>${orDash(p.lastLoginAt)}</td></tr>
</tbody></table>`
    : report.profileStatus === 'not-found'
      ? `<p class="note">Identity holds no profile for user ${code(report.userId)} (deleted, or never existed in this tenant). The ledger's events about them follow.</p>`
      : '<p class="box">Not available: see Missing sections.</p>';
  const sessions = report.sessions
    ? table(
        ['Session', 'Created', 'Last used', 'Expires', 'Revoked', 'Methods', 'IP', 'User agent'],
        report.sessions.map((s) => [
          code(s.id),
          esc(s.createdAt),
          esc(s.lastUsedAt),
          esc(s.expiresAt),
          orDash(s.revokedAt),
          s.amr.map(esc).join(', '),
          orDash(s.ip),
          orDash(s.userAgent),
        ]),
        'No sessions.',
      )
    : '<p class="box">Not available: see Missing sections.</p>';
  const stats = report.signIns;
  return `<section><h2>Profile</h2>${profile}</section>
<section><h2>Sessions</h2><p>As identity holds them at generation time.</p>${sessions}</section>
<section><h2>Sign-ins in the period</h2>
${table(['Sign-ins', 'Last sign-in', 'Failed', 'Last failure', 'Failure reasons'], [signIns(stats)], '')}</section>
<section><h2>Events</h2>
<p>Every event of the period in which this user acted, was acted on or for, or is named: ${esc(report.events.total)} in all, in ledger order.</p>
${truncation(report.events)}${eventsTable(report.events.items, false, names)}</section>
<section><h2>Consents</h2><p class="note">${esc(report.consents.note)}</p></section>`;
}

function configurationChanges(report: ConfigurationChangesReport): string {
  return `<section><h2>Summary</h2>
${table(
  ['Area', 'Changes'],
  report.byArea.map((a) => [esc(a.area), `<span class="num">${esc(a.count)}</span>`]),
  'No configuration changed in the period.',
)}</section>
<section><h2>Changes</h2>
<p>${esc(report.changes.total)} changes, in ledger order, with the state before and after where the event records it.</p>
${truncation(report.changes)}${eventsTable(report.changes.items, true)}</section>`;
}

function howToVerify(report: AuditReport): string {
  const tenant = esc(report.tenantId);
  const size = report.ledger.checkpoint
    ? esc(report.ledger.checkpoint.treeSize)
    : '&lt;treeSize&gt;';
  return `<section><h2>How to verify</h2>
<p>Every event listed carries its position in the tenant's hash chain (<em>seq</em>); each entry's hash commits to
the entry and to the one before it. The latest signed checkpoint above is a Merkle tree head (RFC 9162) over the first
<em>tree size</em> entries, signed with Ed25519 by the key named; the public keys are published at
<code>GET /v1/audit/keys</code>. To check that a listed event is in the signed ledger, unchanged, fetch its inclusion proof
(<code>GET /v1/tenants/${tenant}/audit/proofs/inclusion?seq=&lt;seq&gt;&amp;treeSize=${size}</code>) and verify it against the
root hash; or export the range (<code>GET /v1/tenants/${tenant}/audit-events/export?fromSeq=&lt;first&gt;&amp;toSeq=&lt;last&gt;</code>)
and run <code>npx tenantry-audit verify &lt;file&gt;</code>, which checks the chain, the proofs and the signature offline, without
trusting the operator. Events with a seq above the tree size are not under a checkpoint yet: check them after the next one.
This report is itself in the ledger: event <code>${esc(report.reportId)}</code>, action <code>audit.report.generated</code>.</p></section>`;
}

/**
 * A report as a self-contained HTML document to hand to an auditor: inline CSS (printable,
 * A4), no scripts, no external resources, every value escaped.
 */
export function renderReport(report: AuditReport): string {
  const body =
    report.kind === 'access-review'
      ? accessReview(report)
      : report.kind === 'subject-access'
        ? subjectAccess(report)
        : configurationChanges(report);
  const title = `${TITLES[report.kind]} · ${report.tenantId} · ${report.period.from} – ${report.period.to}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Tenantry audit service">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head><body>
${header(report)}
${missingAndNotes(report)}
${body}
${howToVerify(report)}
<footer>Generated by the Tenantry audit service at ${esc(report.generatedAt)}. Report ${esc(report.reportId)}.</footer>
</body></html>
`;
}
