import { Inject, Injectable } from '@nestjs/common';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Passkey, PasskeyOptionsSchema } from '@tenantry/contracts';
import { addToOutbox, Outbox, TenantTransactions } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import type { z } from 'zod';
import { auditEvent } from '../core/audit.js';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { InjectIdentitySettings, type IdentitySettings } from '../identity.settings.js';
import { UserErrors } from '../users/user.errors.js';
import { UserRepository } from '../users/user.repository.js';
import { MfaErrors } from './mfa.errors.js';
import { MfaService } from './mfa.service.js';
import { PASSKEY_CEREMONY_SECONDS, PasskeyChallenges } from './passkey-challenges.js';
import { PasskeyRepository, type StoredPasskey } from './passkey.repository.js';

/** WebAuthn options as JSON, as the contracts carry them. */
type PasskeyOptions = z.output<typeof PasskeyOptionsSchema>;

/** The passkey added; with the recovery codes when it was the user's first second factor. */
export type AddedPasskey = Passkey & { recoveryCodes?: string[] };

const toPasskey = (stored: StoredPasskey): Passkey => ({
  id: stored.id,
  name: stored.name,
  createdAt: stored.createdAt.toISOString(),
  lastUsedAt: stored.lastUsedAt?.toISOString() ?? null,
});

/**
 * Passkeys (WebAuthn credentials, `@simplewebauthn/server`) as a second factor beside TOTP:
 * registration (options, then the authenticator's answer), sign-in (options for an MFA
 * challenge, then the answer, checked once against its own challenge and the credential's
 * signature counter), listing and removal. The first second factor a user sets up turns MFA
 * on and gives recovery codes; removing the last turns it off. Any attestation is accepted
 * ('none' is asked for): a passkey proves possession of its key, not a make of device.
 */
@Injectable()
export class PasskeyService {
  constructor(
    @Inject(PasskeyRepository) private readonly passkeys: PasskeyRepository,
    @Inject(MfaService) private readonly factors: MfaService,
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(PasskeyChallenges) private readonly challenges: PasskeyChallenges,
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Outbox) private readonly outbox: Outbox,
    @InjectIdentitySettings() private readonly settings: IdentitySettings,
  ) {}

  /** Options for `navigator.credentials.create()`, excluding the user's passkeys; good for 5 minutes. */
  async registrationOptions(tenantId: string, userId: string): Promise<PasskeyOptions> {
    const { user, existing } = await this.tx.run(tenantId, async (manager) => {
      const user = await this.users.findById(manager, tenantId, userId);
      if (!user) throw UserErrors.notFound(userId);
      return { user, existing: await this.passkeys.listByUser(manager, tenantId, userId) };
    });
    const { rpId, rpName } = this.settings.webAuthn;
    const options = await generateRegistrationOptions({
      rpName,
      rpID: rpId,
      userName: user.email,
      userDisplayName: user.displayName || user.email,
      userID: uuidBytes(userId),
      attestationType: 'none',
      timeout: PASSKEY_CEREMONY_SECONDS * 1000,
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    await this.challenges.putRegistration(tenantId, userId, options.challenge);
    return options as PublicKeyCredentialCreationOptionsJSON & PasskeyOptions;
  }

  /**
   * Verifies the authenticator's answer to the user's registration options (once: a second
   * answer finds no options) and stores the passkey. Audited (mfa.enrolled, method passkey).
   */
  async add(
    tenantId: string,
    userId: string,
    name: string | undefined,
    credential: RegistrationResponseJSON,
  ): Promise<AddedPasskey> {
    const expectedChallenge = await this.challenges.takeRegistration(tenantId, userId);
    if (!expectedChallenge) throw MfaErrors.passkeyOptionsMissing();
    const { rpId, origins } = this.settings.webAuthn;
    let verified;
    try {
      verified = await verifyRegistrationResponse({
        response: credential,
        expectedChallenge,
        expectedOrigin: origins,
        expectedRPID: rpId,
        requireUserVerification: false,
      });
    } catch (error) {
      throw MfaErrors.passkeyInvalid((error as Error).message);
    }
    if (!verified.verified) throw MfaErrors.passkeyInvalid('the authenticator did not prove it');
    const info = verified.registrationInfo;
    const added = await this.tx.run(tenantId, async (manager) => {
      const user = await this.users.findById(manager, tenantId, userId, true);
      if (!user) throw UserErrors.notFound(userId);
      const passkey = await this.passkeys.add(manager, tenantId, userId, {
        credentialId: info.credential.id,
        publicKey: info.credential.publicKey,
        counter: info.credential.counter,
        transports: info.credential.transports ?? [],
        backedUp: info.credentialBackedUp,
        name: name ?? 'Passkey',
      });
      if (!passkey) throw MfaErrors.passkeyExists();
      await this.lookup.add(manager, 'passkey', passkey.credentialId, tenantId);
      // The user's first second factor turns MFA on, with recovery codes.
      const recoveryCodes = user.mfaEnabled
        ? undefined
        : await this.factors.turnOnIn(manager, tenantId, userId);
      await addToOutbox(manager, [
        auditEvent({
          tenantId,
          category: 'auth',
          action: 'mfa.enrolled',
          target: { type: 'user', id: userId },
          data: {
            method: 'passkey',
            passkeyId: passkey.id,
            name: passkey.name,
            backedUp: info.credentialBackedUp,
            ...(recoveryCodes ? { recoveryCodes: recoveryCodes.length } : {}),
          },
        }),
      ]);
      return { ...toPasskey(passkey), ...(recoveryCodes ? { recoveryCodes } : {}) };
    });
    this.outbox.kick();
    return added;
  }

  /** The user's passkeys, oldest first. */
  async list(tenantId: string, userId: string): Promise<Passkey[]> {
    return this.tx.run(tenantId, async (manager) => {
      if (!(await this.users.findById(manager, tenantId, userId)))
        throw UserErrors.notFound(userId);
      return (await this.passkeys.listByUser(manager, tenantId, userId)).map(toPasskey);
    });
  }

  /**
   * Removes one of the user's passkeys; with it the last second factor (no TOTP, no other
   * passkey), MFA goes off and the recovery codes go. Audited (mfa.removed, method passkey).
   */
  async remove(tenantId: string, userId: string, passkeyId: string): Promise<void> {
    await this.tx.run(tenantId, async (manager) => {
      const user = await this.users.findById(manager, tenantId, userId, true);
      if (!user) throw UserErrors.notFound(userId);
      const credentialId = await this.passkeys.remove(manager, tenantId, userId, passkeyId);
      if (!credentialId) throw MfaErrors.passkeyNotFound(passkeyId);
      await this.lookup.remove(manager, 'passkey', [credentialId], tenantId);
      const mfaEnabled = await this.factors.afterFactorRemovedIn(manager, tenantId, userId);
      await addToOutbox(manager, [
        auditEvent({
          tenantId,
          category: 'auth',
          action: 'mfa.removed',
          target: { type: 'user', id: userId },
          data: { method: 'passkey', passkeyId, mfaEnabled },
        }),
      ]);
    });
    this.outbox.kick();
  }

  /**
   * Options for `navigator.credentials.get()` answering the MFA challenge `challengeToken`
   * with one of the user's passkeys (a newer request replaces them); NO_PASSKEYS without one.
   */
  async signInOptions(
    tenantId: string,
    userId: string,
    challengeToken: string,
  ): Promise<PasskeyOptions> {
    const existing = await this.tx.run(tenantId, (manager) =>
      this.passkeys.listByUser(manager, tenantId, userId),
    );
    if (!existing.length) throw MfaErrors.noPasskeys();
    const options = await generateAuthenticationOptions({
      rpID: this.settings.webAuthn.rpId,
      allowCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
      userVerification: 'preferred',
      timeout: PASSKEY_CEREMONY_SECONDS * 1000,
    });
    await this.challenges.putSignIn(challengeToken, options.challenge);
    return options as PublicKeyCredentialRequestOptionsJSON & PasskeyOptions;
  }

  /**
   * In the caller's transaction: whether `assertion` answers the sign-in options of
   * `challengeToken` (taken: one answer each) with one of the user's passkeys, its signature
   * valid and its counter moved on (a cloned authenticator's is not); records the use.
   */
  async verifyIn(
    manager: EntityManager,
    tenantId: string,
    userId: string,
    challengeToken: string,
    assertion: AuthenticationResponseJSON,
  ): Promise<boolean> {
    const expectedChallenge = await this.challenges.takeSignIn(challengeToken);
    if (!expectedChallenge) return false;
    const passkey = await this.passkeys.findByCredential(manager, tenantId, assertion.id);
    return passkey?.userId === userId
      ? this.check(manager, tenantId, passkey, expectedChallenge, assertion, false)
      : false;
  }

  /**
   * Options for `navigator.credentials.get()` that sign in with a passkey alone (the browser
   * offers the passkeys it has for this relying party); the authenticator must verify its
   * user (PIN, biometrics). Good for 5 minutes, one answer.
   */
  async loginOptions(): Promise<PasskeyOptions> {
    const options = await generateAuthenticationOptions({
      rpID: this.settings.webAuthn.rpId,
      userVerification: 'required',
      timeout: PASSKEY_CEREMONY_SECONDS * 1000,
    });
    await this.challenges.putLogin(options.challenge);
    return options as PublicKeyCredentialRequestOptionsJSON & PasskeyOptions;
  }

  /**
   * The tenant a sign-in answer's passkey is in (credential_lookup), with the answer's
   * challenge. Refused as `challenge_invalid` when the challenge was not handed out by
   * `loginOptions` or was answered already (taken here), `unknown_passkey` when no tenant (or
   * several) has the passkey.
   */
  async findForLogin(
    assertion: AuthenticationResponseJSON,
  ): Promise<
    { tenantId: string; challenge: string } | { refused: 'challenge_invalid' | 'unknown_passkey' }
  > {
    const challenge = challengeOf(assertion);
    if (!challenge || !(await this.challenges.takeLogin(challenge)))
      return { refused: 'challenge_invalid' };
    const [tenantId, ...others] = await this.lookup.tenantsOf('passkey', assertion.id);
    if (!tenantId || others.length) return { refused: 'unknown_passkey' };
    return { tenantId, challenge };
  }

  /** The tenant's passkey with this credential id, with its user (in the caller's transaction). */
  findIn(manager: EntityManager, tenantId: string, credentialId: string) {
    return this.passkeys.findByCredential(manager, tenantId, credentialId);
  }

  /** Whether a sign-in answer (of `findForLogin`) is the passkey's, its user verified; records the use. */
  verifyLogin(
    tenantId: string,
    passkey: StoredPasskey,
    challenge: string,
    assertion: AuthenticationResponseJSON,
  ): Promise<boolean> {
    return this.tx.run(tenantId, (manager) =>
      this.check(manager, tenantId, passkey, challenge, assertion, true),
    );
  }

  /**
   * Whether `assertion` is `passkey`'s answer to `expectedChallenge` on one of the origins and
   * for the relying party, its signature valid and its counter moved on (a cloned
   * authenticator's is not), the user verified when `requireUserVerification`; records the use.
   */
  private async check(
    manager: EntityManager,
    tenantId: string,
    passkey: StoredPasskey,
    expectedChallenge: string,
    assertion: AuthenticationResponseJSON,
    requireUserVerification: boolean,
  ): Promise<boolean> {
    const { rpId, origins } = this.settings.webAuthn;
    try {
      const { verified, authenticationInfo } = await verifyAuthenticationResponse({
        response: assertion,
        expectedChallenge,
        expectedOrigin: origins,
        expectedRPID: rpId,
        credential: {
          id: passkey.credentialId,
          publicKey: passkey.publicKey,
          counter: passkey.counter,
          transports: passkey.transports,
        },
        requireUserVerification,
      });
      return (
        verified &&
        (await this.passkeys.recordUse(
          manager,
          tenantId,
          passkey.id,
          passkey.counter,
          authenticationInfo.newCounter,
        ))
      );
    } catch {
      return false; // a bad signature, origin, challenge, counter or user verification: a wrong answer
    }
  }
}

/** The user's id as WebAuthn's user handle: its 16 bytes, the same for every passkey. */
function uuidBytes(uuid: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(uuid.replace(/-/g, ''), 'hex'));
}

/** The challenge an answer's client data carries (base64url), or null when it is unreadable. */
function challengeOf(assertion: AuthenticationResponseJSON): string | null {
  try {
    const clientData = JSON.parse(
      Buffer.from(assertion.response.clientDataJSON, 'base64url').toString('utf8'),
    ) as { challenge?: unknown };
    return typeof clientData.challenge === 'string' ? clientData.challenge : null;
  } catch {
    return null;
  }
}
