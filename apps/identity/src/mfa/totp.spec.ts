import { generate } from 'otplib';
import { acceptedStep, isFreshStep, isTotpCode, newTotpSecret, totpUri } from './totp.js';

const at = new Date('2026-12-01T12:00:10Z');
const stepOf = (date: Date) => Math.floor(date.getTime() / 1000 / 30);
const codeAt = (secret: string, date: Date) =>
  generate({ secret, epoch: Math.floor(date.getTime() / 1000) });

describe('TOTP', () => {
  it('accepts the current code and gives its time step', async () => {
    const secret = newTotpSecret();
    expect(await acceptedStep(secret, await codeAt(secret, at), null, at)).toBe(stepOf(at));
  });

  it('accepts a code once per time step: the same step again is refused', async () => {
    const secret = newTotpSecret();
    const code = await codeAt(secret, at);
    const step = await acceptedStep(secret, code, null, at);
    expect(step).not.toBeNull();
    expect(await acceptedStep(secret, code, step, at)).toBeNull();
    expect(await acceptedStep(secret, code, step, new Date(at.getTime() + 5_000))).toBeNull();
    expect(isFreshStep(step!, step)).toBe(false);
    expect(isFreshStep(step! + 1, step)).toBe(true);
    expect(isFreshStep(step!, null)).toBe(true);
  });

  it("accepts the next step's code after a used one, and refuses older steps", async () => {
    const secret = newTotpSecret();
    const next = new Date(at.getTime() + 30_000);
    const step = await acceptedStep(secret, await codeAt(secret, at), null, at);
    expect(await acceptedStep(secret, await codeAt(secret, next), step, next)).toBe(step! + 1);
    expect(await acceptedStep(secret, await codeAt(secret, at), step! + 1, next)).toBeNull();
  });

  it('allows one step of clock drift, not two', async () => {
    const secret = newTotpSecret();
    const code = await codeAt(secret, at);
    expect(await acceptedStep(secret, code, null, new Date(at.getTime() + 30_000))).toBe(
      stepOf(at),
    );
    expect(await acceptedStep(secret, code, null, new Date(at.getTime() + 70_000))).toBeNull();
  });

  it("refuses wrong codes, another secret's codes and anything but six digits", async () => {
    const secret = newTotpSecret();
    const code = await codeAt(secret, at);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    expect(await acceptedStep(secret, wrong, null, at)).toBeNull();
    expect(await acceptedStep(newTotpSecret(), code, null, at)).toBeNull();
    for (const bad of ['12345', '1234567', '12345a', ' 123456'])
      expect(isTotpCode(bad)).toBe(false);
  });

  it('makes an otpauth URI for authenticator apps', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(totpUri(secret, 'ana@example.com')).toBe(
      `otpauth://totp/Tenantry:ana%40example.com?secret=${secret}&issuer=Tenantry`,
    );
  });
});
