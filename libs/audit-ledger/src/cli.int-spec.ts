// The offline verifier as a user runs it: `node bin/tenantry-audit.mjs verify <file>` in a child
// process, on export files written to a temporary folder. Builds the library's dist first.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chain, exportFile, signingKey, TENANT } from './spec/fixtures.js';

const LIB = fileURLToPath(new URL('..', import.meta.url));
const ROOT = join(LIB, '..', '..');
const BIN = join(LIB, 'bin', 'tenantry-audit.mjs');

const ENTRIES = chain(25);
const SIGNER = signingKey('audit-2026-01');
let dir: string;

function run(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    input,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function write(name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

beforeAll(() => {
  // The bin imports ../dist/index.js: build it from the current sources.
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', join(LIB, 'tsconfig.json')],
    {
      cwd: ROOT,
      stdio: 'pipe',
    },
  );
  dir = mkdtempSync(join(tmpdir(), 'tenantry-audit-'));
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tenantry-audit verify', () => {
  it('OK with the keys of the file, saying so', () => {
    const file = write('ok.ndjson', exportFile(ENTRIES, SIGNER));
    const { status, stdout } = run(['verify', file]);
    expect(stdout).toBe(
      `OK: 25 entries, seq 1..25 of tenant ${TENANT}, checkpoint tree size 25 signed by key audit-2026-01` +
        ' (a key listed in the file itself, not independently trusted: pass --key <publicKey from GET /v1/audit/keys> to pin it)\n',
    );
    expect(status).toBe(0);
  });

  it('OK with a pinned key; FAILED with another one', () => {
    const file = write('range.ndjson', exportFile(ENTRIES, SIGNER, { fromSeq: 10, toSeq: 20 }));
    const ok = run(['verify', file, '--key', SIGNER.key.publicKey]);
    expect(ok).toMatchObject({ status: 0 });
    expect(ok.stdout).toMatch(
      /^OK: 11 entries, seq 10\.\.20 of tenant .*, checkpoint tree size 25 signed by key audit-2026-01 \(trusted key /,
    );
    const other = signingKey('x').key.publicKey;
    const failed = run(['verify', file, `--key=${other}`]);
    expect(failed).toEqual({
      status: 1,
      stdout: `FAILED at line 13: unknown_key: the checkpoint is signed by key audit-2026-01, which is not one of the trusted keys (valid at 2026-02-01T00:00:00.000Z)\n`,
      stderr: '',
    });
  });

  it('FAILED at the altered line', () => {
    const lines = exportFile(ENTRIES, SIGNER);
    const entry = JSON.parse(lines[8]!);
    lines[8] = JSON.stringify({
      ...entry,
      outcome: entry.outcome === 'success' ? 'failure' : 'success',
    });
    const { status, stdout } = run(['verify', write('altered.ndjson', lines)]);
    expect(status).toBe(1);
    expect(stdout).toMatch(
      /^FAILED at line 9: altered: entry seq 8 hashes to [0-9a-f]{64}, but its stored hash is [0-9a-f]{64}\n$/,
    );
  });

  it('FAILED at a deleted line, reading standard input', () => {
    const lines = exportFile(ENTRIES, SIGNER).filter((_, i) => i !== 3);
    const { status, stdout } = run(['verify', '-'], lines.join('\n'));
    expect({ status, stdout }).toEqual({
      status: 1,
      stdout: 'FAILED at line 4: gap: expected seq 3, found 4\n',
    });
  });

  it('usage errors exit 2 naming the problem; --help exits 0', () => {
    expect(run(['--help'])).toMatchObject({
      status: 0,
      stdout: expect.stringContaining('Usage: tenantry-audit verify'),
    });
    expect(run(['check', 'x'])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('unknown command "check"'),
    });
    expect(run(['verify'])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('verify takes exactly one file'),
    });
    expect(run(['verify', 'x', '--key', 'abc'])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('--key "abc" is not a raw 32-byte Ed25519 public key'),
    });
    expect(run(['verify', join(dir, 'missing.ndjson')])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('cannot read'),
    });
  });
});
