import { Injectable } from '@nestjs/common';
import { randomSecret } from '../core/secret-token.js';
import type { FlowCompleted, SamlAssertion, SamlConnectionConfig } from '../sso/sso.types.js';
import { newSamlId, samlOptionsFor } from './saml-options.js';
import { SamlPassport } from './saml-passport.js';
import { rejected, rejectionFromNodeSaml, SamlRejectionReason as R } from './saml-rejection.js';
import {
  decodeSamlResponse,
  inspectResponse,
  parseSamlXml,
  readVerifiedAssertion,
} from './saml-response.js';
import { SamlStateStore } from './saml-state.store.js';

/** A RelayState we hand out: 256 random bits in base64url. */
const OUR_RELAY_STATE = /^[A-Za-z0-9_-]{43}$/;

/**
 * SAML 2.0 Web Browser SSO as a service provider, one connection at a time: starts an
 * SP-initiated sign-in (a signed AuthnRequest, HTTP-Redirect binding) and checks what the
 * IdP POSTs back to the ACS. Signature, decryption, time window, audience and InResponseTo
 * are node-saml's (through `@node-saml/passport-saml`); everything it leaves open is checked
 * around it (`saml-response.ts`), and accepted assertion IDs are remembered against replay.
 * Throws `SsoRejected` with a `SamlRejectionReason`, or an `AppError` when Redis is away.
 */
@Injectable()
export class SamlLogin {
  private readonly strategy = new SamlPassport();

  constructor(private readonly state: SamlStateStore) {}

  /**
   * The IdP URL to send the browser to. `returnTo` must already be validated against the
   * tenant's allowed origins; it is kept in Redis under the RelayState (an opaque random id).
   */
  async start(
    conn: SamlConnectionConfig,
    returnTo: string | undefined,
  ): Promise<{ redirectUrl: string }> {
    const relayState = randomSecret();
    let requestId: string | undefined;
    const options = samlOptionsFor(conn, this.state.requestCache(conn.id), () => {
      requestId = newSamlId();
      return requestId;
    });
    const outcome = await this.strategy.run(
      { method: 'GET', url: '/', headers: {}, query: { RelayState: relayState }, body: {} },
      options,
    );
    // Nothing the user sent is involved here: an error is the connection's configuration (or Redis).
    if (outcome.kind === 'error') throw outcome.error;
    if (outcome.kind !== 'redirect' || !requestId) {
      throw new Error(`the SAML strategy did not redirect to the IdP (${outcome.kind})`);
    }
    await this.state.saveRelay(conn.id, relayState, { requestId, returnTo: returnTo ?? null });
    return { redirectUrl: outcome.location };
  }

  /**
   * Checks the SAMLResponse POSTed to the ACS (base64, as received) and returns who signed in.
   * SP-initiated: the RelayState must be the one `start` handed out for the request the
   * response answers (single use). IdP-initiated (when allowed): the RelayState is returned
   * as is, for the caller to judge.
   */
  async complete(
    conn: SamlConnectionConfig,
    samlResponse: string,
    relayState: string | undefined,
  ): Promise<FlowCompleted<SamlAssertion>> {
    const xml = decodeSamlResponse(samlResponse);
    const facts = inspectResponse(parseSamlXml(xml), conn);

    let returnTo: string | undefined;
    if (facts.inResponseTo !== null) {
      if (!(await this.state.hasRequest(conn.id, facts.inResponseTo))) {
        throw rejected(
          R.InResponseToUnknown,
          'the SAML response answers a sign-in request we do not know, that expired or was already used; start the sign-in again',
        );
      }
      const relay =
        relayState && OUR_RELAY_STATE.test(relayState)
          ? await this.state.takeRelay(conn.id, relayState)
          : null;
      if (!relay || relay.requestId !== facts.inResponseTo) {
        throw rejected(
          R.RelayStateUnknown,
          'the SAML response did not come back with the RelayState of the request it answers; start the sign-in again',
        );
      }
      returnTo = relay.returnTo ?? undefined;
    } else if (!conn.allowIdpInitiated) {
      throw rejected(
        R.Unsolicited,
        'this connection accepts only sign-ins started here, and the SAML response answers no request (IdP-initiated)',
      );
    }

    const outcome = await this.strategy.run(
      {
        method: 'POST',
        url: new URL(conn.sp.acsUrl).pathname,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        query: {},
        body:
          relayState === undefined
            ? { SAMLResponse: samlResponse }
            : { SAMLResponse: samlResponse, RelayState: relayState },
      },
      samlOptionsFor(conn, this.state.requestCache(conn.id)),
    );
    if (outcome.kind === 'error') {
      throw rejectionFromNodeSaml(outcome.error, { encrypted: facts.encrypted });
    }
    if (outcome.kind !== 'success') {
      throw rejected(R.Malformed, 'the SAML response carries no sign-in');
    }
    if (facts.inResponseTo !== null) await this.state.forgetRequest(conn.id, facts.inResponseTo);

    const verified = readVerifiedAssertion(outcome.profile.getAssertionXml!(), conn, {
      inResponseTo: facts.inResponseTo,
      nameIdReadByNodeSaml: outcome.profile.nameID,
      now: Date.now(),
    });
    if (
      !(await this.state.claimAssertion(
        conn.id,
        verified.assertion.assertionId,
        verified.acceptableUntil,
      ))
    ) {
      throw rejected(
        R.Replayed,
        'this SAML assertion was already used to sign in; an assertion is accepted once',
      );
    }

    const idpInitiated = facts.inResponseTo === null;
    return {
      identity: verified.assertion,
      returnTo,
      idpInitiated,
      ...(idpInitiated && relayState ? { relayState } : {}),
    };
  }
}
