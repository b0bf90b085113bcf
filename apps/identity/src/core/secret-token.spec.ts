import { createHash } from 'node:crypto';
import {
  issueSecretToken,
  parseSecretToken,
  randomSecret,
  secretMatches,
  sha256Hex,
} from './secret-token.js';

describe('secret tokens (<id>.<secret>, stored as SHA-256)', () => {
  it('issues <uuidv7>.<43 base64url characters> and keeps only the SHA-256 hex of the secret', () => {
    const issued = issueSecretToken();
    expect(issued.token).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\.[A-Za-z0-9_-]{43}$/,
    );
    const [id, secret] = issued.token.split('.');
    expect(issued.id).toBe(id);
    expect(Buffer.from(secret!, 'base64url')).toHaveLength(32);
    expect(issued.hash).toBe(createHash('sha256').update(secret!).digest('hex'));
    expect(issued.token).not.toContain(issued.hash);
  });

  it('never issues the same secret twice', () => {
    const secrets = new Set(Array.from({ length: 1000 }, () => randomSecret()));
    expect(secrets.size).toBe(1000);
  });

  it('parses what it issues, and nothing else', () => {
    const issued = issueSecretToken();
    expect(parseSecretToken(issued.token)).toEqual({
      id: issued.id,
      secret: issued.token.split('.')[1],
    });
    const secret = issued.token.split('.')[1]!;
    for (const bad of [
      '',
      issued.id,
      `${issued.id}.`,
      `${issued.id}.${secret}x`,
      `${issued.id}.${secret.slice(1)}`,
      `${issued.id}.${secret.slice(0, -1)}=`,
      `${issued.id.toUpperCase()}.${secret}`,
      `not-a-uuid.${secret}`,
      ` ${issued.token}`,
      `${issued.token}\n`,
    ]) {
      expect({ bad, parsed: parseSecretToken(bad) }).toEqual({ bad, parsed: null });
    }
  });

  it('matches a secret only against its own hash', () => {
    const a = issueSecretToken();
    const b = issueSecretToken();
    const secretOf = (token: string) => token.split('.')[1]!;
    expect(secretMatches(secretOf(a.token), a.hash)).toBe(true);
    expect(secretMatches(secretOf(b.token), a.hash)).toBe(false);
    expect(secretMatches(secretOf(a.token), '')).toBe(false);
    expect(secretMatches(secretOf(a.token), a.hash.slice(2))).toBe(false);
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});
