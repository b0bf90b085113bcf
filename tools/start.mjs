// `npm start`: checks infrastructure, builds, starts every service as a separate process on
// 127.0.0.1 (through @tenantry/launcher, never the test harness), waits until each is ready and
// prints the URLs. The console gets one line per service when it is ready, then the gateway's
// requests and every warning and error; each service's full JSON log goes to
// tmp/logs/<service>.log (tmp/logs/<namespace>/ with TENANTRY_NAMESPACE), emptied at each start.
//
// Stopping: SIGINT, SIGTERM or SIGHUP to this process, or to the npm process that runs it, stops
// them all (a second Ctrl-C kills them). npm 11 runs a script as `sh -c "<script>"` and forwards
// SIGINT and SIGTERM to that shell only; Debian's dash does not exec the command, so a signal to
// npm never reached this process (SIGTERM orphaned it with six services serving). The script is
// therefore `exec node tools/start.mjs`: the shell becomes this process and gets the signals. If
// npm dies without a signal (SIGKILL) this process notices its parent is gone. The services go
// away with this process however it ends, even on SIGKILL: each is spawned with an IPC channel,
// and a service stops when that channel closes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkInfrastructure } from './infra.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COLORS = [36, 35, 32, 33, 34, 31, 96, 95, 92, 93, 94, 91];
const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const tty = !!process.stdout.isTTY;
const paint = (code, text) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);

// A closed terminal or pipe must not crash the supervisor while it stops the services.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
const say = (line) => process.stdout.write(`${line}\n`);
const complain = (line) => process.stderr.write(`${line}\n`);

// ---- stopping ------------------------------------------------------------------------------

let group; // the ServiceGroup once the services are launched
let build; // the tsc process while building
let stopping = false;
let firstSignalAt = 0;
let forced = false;

async function shutdown(why, exitCode = 0) {
  if (stopping) return;
  stopping = true;
  firstSignalAt = Date.now();
  say(`\n${why}: stopping${group ? ' all services' : ''}…`);
  build?.kill('SIGTERM');
  if (group) {
    const running = [...group.processes.values()].filter((service) => service.running);
    const codes = await Promise.all(running.map((service) => service.stop()));
    if (forced) return;
    const unclean = running.filter((_, i) => codes[i] !== 0).map((service) => service.name);
    if (unclean.length) say(`(not a clean exit: ${unclean.join(', ')}; see their logs)`);
  }
  say('Stopped.');
  process.exit(exitCode);
}

function onSignal(signal) {
  if (!stopping) {
    void shutdown(signal);
    return;
  }
  // Once more (a terminal may deliver one Ctrl-C twice, hence the half second): no more waiting.
  if (Date.now() - firstSignalAt < 500) return;
  if (forced) return;
  forced = true;
  say(`${signal} again: killing all services.`);
  build?.kill('SIGKILL');
  void (group?.kill() ?? Promise.resolve()).finally(() => {
    say('Killed.');
    process.exit(130);
  });
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => onSignal(signal));

/**
 * Stops everything when whoever started this process goes away without a signal reaching it
 * (npm killed with SIGKILL): this process is then re-parented, and process.ppid changes.
 */
function watchParent() {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown('the process that ran npm start is gone');
  }, 250).unref();
}
watchParent();

// ---- console -------------------------------------------------------------------------------

let labelWidth = 8;
let colorOf = () => 0;
const label = (service) => paint(colorOf(service), service.padEnd(labelWidth));

function parse(line) {
  try {
    const entry = JSON.parse(line);
    return entry && typeof entry === 'object' ? entry : undefined;
  } catch {
    return undefined;
  }
}

function describe(entry) {
  let text = `${entry.context ? `[${entry.context}] ` : ''}${entry.msg ?? ''}`;
  if (entry.err?.message && !text.includes(entry.err.message)) text += ` — ${entry.err.message}`;
  return text;
}

function levelOf(entry) {
  const level = LEVELS[entry.level] ?? String(entry.level).toUpperCase();
  return entry.level >= 50 ? paint(31, level) : entry.level >= 40 ? paint(33, level) : level;
}

// identity's log lines that npm start acts on (apps/identity: operators/operator.service.ts, mail/mail.sender.ts).
const OPERATOR_CREATED = 'platform operator created';
const MAIL_LOGGED = 'mail not sent: SMTP_URL is unset';
let operatorCreated; // the email of the platform operator identity created during this start

/** A mail identity wrote to its log (no SMTP_URL): who, what, and the text, indented. */
function mailLines(entry) {
  const text = String(entry.text ?? '')
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
  return `${paint(36, '✉')} mail to ${entry.to}: ${entry.subject}\n${text}`;
}

function requestLine(entry) {
  const status = Number(entry.status);
  const color = status >= 500 ? 31 : status >= 400 ? 33 : 32;
  const ms = Number(entry.responseTimeMs ?? 0).toFixed(1);
  return `${entry.method} ${entry.url} ${paint(color, status)} ${paint(2, `${ms} ms`)}`;
}

/** Console: the gateway's requests, and every warning or error of any service; the log files have the rest. */
function onLine(service, line, stream) {
  const entry = parse(line);
  if (!entry) {
    // Not a log entry: what reaches stderr so (a crash, a configuration error) is worth seeing.
    if (stream === 'stderr') say(`${label(service)} ${line}`);
    return;
  }
  if (entry.level >= 40) say(`${label(service)} ${levelOf(entry)} ${describe(entry)}`);
  else if (service === 'gateway' && entry.msg === 'request completed') say(requestLine(entry));
  else if (service === 'identity' && entry.msg === MAIL_LOGGED)
    say(`${label(service)} ${mailLines(entry)}`);
  else if (service === 'identity' && entry.msg === OPERATOR_CREATED) operatorCreated = entry.email;
}

/** A service ended without being asked to: say so, with the end of its log, and stop the rest. */
function onExit({ service, code, signal, expected }) {
  if (expected || stopping) return;
  const crashed = group.service(service);
  say(
    `${paint(31, '✗')} ${service} exited unexpectedly (${signal ?? `code ${code}`}); ` +
      `the end of ${shortPath(crashed.logFile)}:`,
  );
  for (const line of crashed.recentLines(15)) {
    const entry = parse(line);
    say(`    ${entry ? `${levelOf(entry)} ${describe(entry)}` : line}`);
  }
  void shutdown(`${service} died`, 1);
}

const shortPath = (path) => relative(process.cwd(), path) || path;

// ---- start ---------------------------------------------------------------------------------

const problems = await checkInfrastructure();
if (problems.length) {
  for (const problem of problems) complain(`✗ ${problem}`);
  complain('Tenantry needs PostgreSQL, Redis and NATS with JetStream; see README.md "Running it".');
  process.exit(1);
}

say('Building…');
build = spawn('npx', ['tsc', '-b', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
const built = await new Promise((resolve) => {
  build.once('error', () => resolve(1));
  build.once('exit', (code, signal) => resolve(signal ? 1 : code));
});
build = undefined;
if (built !== 0) process.exit(built ?? 1);

const { DEFAULT_HTTP_PORTS, SERVICES } = await import('@tenantry/contracts');
const { ServiceGroup, canConnect } = await import('@tenantry/launcher');
labelWidth = Math.max(...SERVICES.map((service) => service.length));
colorOf = (service) => COLORS[SERVICES.indexOf(service) % COLORS.length];

// GATEWAY_PORT, IDENTITY_PORT, TENANTS_PORT, … (<SERVICE>_PORT) move a service off its default.
const ports = { ...DEFAULT_HTTP_PORTS };
for (const service of SERVICES) {
  const variable = `${service.toUpperCase().replace(/-/g, '_')}_PORT`;
  const value = process.env[variable];
  if (!value) continue;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
    complain(`✗ ${variable} must be a port number from 1 to 65535 (got "${value}")`);
    process.exit(1);
  }
  ports[service] = port;
}

const namespace = process.env.TENANTRY_NAMESPACE ?? '';
for (const [service, port] of Object.entries(ports)) {
  if (await canConnect('127.0.0.1', port, 300)) {
    complain(
      `✗ port ${port} (${service}) is already in use: is Tenantry already running? Stop it, or free the port.`,
    );
    process.exit(1);
  }
}

// First start: identity creates the platform operator from TENANTRY_ADMIN_EMAIL and
// TENANTRY_ADMIN_PASSWORD when its database has none. When the user set neither, make them
// up; they are shown once, beside the URLs, if identity did create the operator with them.
const generatedAdmin =
  process.env.TENANTRY_ADMIN_EMAIL || process.env.TENANTRY_ADMIN_PASSWORD
    ? undefined
    : { email: 'admin@localhost', password: randomBytes(18).toString('base64url') };
if (!process.env.SMTP_URL) {
  say(
    'Mail: SMTP_URL is unset, so identity writes each mail (invitations, password resets) to its log; they are shown here.',
  );
}

const logDir = join(ROOT, 'tmp', 'logs', namespace);
group = await ServiceGroup.create({
  root: ROOT,
  ports,
  env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' },
  logDir,
  truncateLogs: true,
  onLine,
  onExit,
});
if (generatedAdmin) {
  // Only identity gets the password (the group's env goes to every service).
  const identity = group.service('identity');
  identity.options.env = {
    ...identity.options.env,
    TENANTRY_ADMIN_EMAIL: generatedAdmin.email,
    TENANTRY_ADMIN_PASSWORD: generatedAdmin.password,
  };
}

const started = Date.now();
let up = false;
try {
  await group.start({
    timeoutMs: 120_000,
    onReady: (service, ms) =>
      say(
        `${paint(32, '✓')} ${service.name} ready on :${service.port} (${(ms / 1000).toFixed(1)} s)`,
      ),
  });
  up = true;
} catch (error) {
  // A service that exited is reported by onExit (with the end of its log); this is the rest.
  if (!stopping && [...group.processes.values()].every((p) => p.running)) {
    say(`${paint(31, '✗')} ${error.message}`);
    void shutdown('start-up failed', 1);
  }
}

/** The platform operator identity created on this start, if it did; the password only if npm start made it up. */
function adminLine() {
  if (!operatorCreated) return '';
  const credentials =
    generatedAdmin && operatorCreated === generatedAdmin.email
      ? `${generatedAdmin.email}  password: ${generatedAdmin.password}   (shown only this once)`
      : `${operatorCreated}  (with your TENANTRY_ADMIN_PASSWORD)`;
  return `\n  Admin:    ${credentials}`;
}

if (up && !stopping) {
  const url = `http://127.0.0.1:${ports.gateway}`;
  say(`
Tenantry is up (${((Date.now() - started) / 1000).toFixed(1)} s${namespace ? `, namespace ${namespace}` : ''}).
  Gateway:  ${url}
  API docs: ${url}/docs   (OpenAPI: ${url}/openapi.json)
  Health:   ${url}/v1/health
  Logs:     ${shortPath(join(logDir, '<service>.log'))} (full JSON; here: requests, warnings, errors)${adminLine()}
Press Ctrl-C to stop.
`);
}
