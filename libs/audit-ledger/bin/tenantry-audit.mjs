#!/usr/bin/env node
// tenantry-audit: verifies an audit ledger export offline (the chain, the gap-free seq, the
// signed checkpoint and the last entry's inclusion proof), reading the file as a stream.
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { isRawPublicKey, verifyExport } from '../dist/index.js';

const HELP = `Usage: tenantry-audit verify <export.ndjson | -> [--key <public key>]...

Verifies a Tenantry audit export (NDJSON, GET /v1/tenants/{tenantId}/audit-events/export)
without contacting Tenantry: every entry's hash and its link to the previous one, the
gap-free seq, the checkpoint's Ed25519 signature and the last entry's inclusion proof in
the checkpoint's Merkle tree. "-" reads standard input.

  --key <public key>  a trusted checkpoint signing key: the raw 32-byte Ed25519 public key
                      in base64url, as "publicKey" in GET /v1/audit/keys. Repeatable. The
                      checkpoint must be signed by one of them. Without --key, the keys the
                      file lists are used, which proves integrity only against whoever
                      wrote the file: pin the keys for independent verification.
  -h, --help          this help

Prints "OK: ..." and exits 0, or "FAILED at line L: <kind>: <message>" and exits 1.
Exits 2 on a usage error or an unreadable file.`;

function usage(message) {
  process.stderr.write(`tenantry-audit: ${message}\n\nRun tenantry-audit --help for usage.\n`);
  process.exit(2);
}

function parseArgs(argv) {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const [command, ...rest] = argv;
  if (command !== 'verify') usage(`unknown command "${command}" (the one command is verify)`);
  const keys = [];
  const files = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--key' || arg.startsWith('--key=')) {
      const value = arg === '--key' ? rest[++i] : arg.slice('--key='.length);
      if (value === undefined) usage('--key needs a value: a base64url Ed25519 public key');
      if (!isRawPublicKey(value))
        usage(
          `--key "${value}" is not a raw 32-byte Ed25519 public key in base64url (43 characters)`,
        );
      keys.push(value);
    } else if (arg.startsWith('-') && arg !== '-') {
      usage(`unknown option "${arg}"`);
    } else {
      files.push(arg);
    }
  }
  if (files.length !== 1) usage('verify takes exactly one file (or - for standard input)');
  return { file: files[0], keys };
}

async function openInput(file) {
  if (file === '-') return process.stdin;
  try {
    const handle = await open(file, 'r');
    return handle.createReadStream({ encoding: 'utf8' });
  } catch (error) {
    process.stderr.write(`tenantry-audit: cannot read ${file}: ${error.message}\n`);
    process.exit(2);
  }
}

const { file, keys } = parseArgs(process.argv.slice(2));
const input = await openInput(file);
const lines = createInterface({ input, crlfDelay: Infinity });
const trustedKeys = keys.map((publicKey, i) => ({
  keyId: `--key ${i + 1}`,
  publicKey,
  notBefore: '1970-01-01T00:00:00.000Z',
  notAfter: null,
}));
let result;
try {
  result = await verifyExport(lines, keys.length > 0 ? { trustedKeys } : {});
} catch (error) {
  process.stderr.write(`tenantry-audit: cannot read ${file}: ${error.message}\n`);
  process.exit(2);
}
if (!result.ok) {
  lines.close();
  input.destroy();
  process.stdout.write(`FAILED at line ${result.line}: ${result.kind}: ${result.message}\n`);
  process.exit(1);
}
const c = result.checkpoint;
const source =
  result.keySource === 'file'
    ? ' (a key listed in the file itself, not independently trusted: pass --key <publicKey from GET /v1/audit/keys> to pin it)'
    : ` (trusted key ${result.key.publicKey})`;
process.stdout.write(
  `OK: ${result.entries} entries, seq ${result.fromSeq}..${result.toSeq} of tenant ${result.tenantId}, ` +
    `checkpoint tree size ${c.treeSize} signed by key ${c.keyId}${source}\n`,
);
