import { Controller, Inject } from '@nestjs/common';
import { AuthRpc, MfaChallengeEnrolRpc, type RpcPayload } from '@tenantry/contracts';
import { RpcHandler } from '@tenantry/messaging';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { LoginService } from './login.service.js';
import { PasswordLinkService } from './password-link.service.js';
import { RefreshService } from './refresh.service.js';

@Controller()
export class AuthNatsController {
  constructor(
    @Inject(LoginService) private readonly login: LoginService,
    @Inject(RefreshService) private readonly refresh: RefreshService,
    @Inject(PasswordLinkService) private readonly links: PasswordLinkService,
  ) {}

  @RpcHandler(AuthRpc.login)
  signIn(request: RpcPayload<typeof AuthRpc.login>) {
    return this.login.login(request);
  }

  @RpcHandler(AuthRpc.verifyMfa)
  verifyMfa(request: RpcPayload<typeof AuthRpc.verifyMfa>) {
    return this.login.verifyMfa(request);
  }

  @RpcHandler(AuthRpc.passkeyLoginOptions)
  passkeyLoginOptions(request: RpcPayload<typeof AuthRpc.passkeyLoginOptions>) {
    return this.login.passkeyLoginOptions(request.client);
  }

  @RpcHandler(AuthRpc.passkeyLogin)
  passkeyLogin(request: RpcPayload<typeof AuthRpc.passkeyLogin>) {
    return this.login.passkeyLogin(request.passkey as AuthenticationResponseJSON, request.client);
  }

  @RpcHandler(AuthRpc.passkeyEnrolOptions)
  passkeyEnrolOptions(request: RpcPayload<typeof AuthRpc.passkeyEnrolOptions>) {
    return this.login.passkeyEnrolOptions(request.challengeToken, request.client);
  }

  @RpcHandler(AuthRpc.enrolPasskey)
  enrolPasskey(request: RpcPayload<typeof AuthRpc.enrolPasskey>) {
    return this.login.enrolPasskey(request);
  }

  @RpcHandler(AuthRpc.passkeyOptions)
  passkeyOptions(request: RpcPayload<typeof AuthRpc.passkeyOptions>) {
    return this.login.passkeyOptions(request.challengeToken, request.client);
  }

  @RpcHandler(MfaChallengeEnrolRpc)
  enrolMfa(request: RpcPayload<typeof MfaChallengeEnrolRpc>) {
    return this.login.enrolWithChallenge(request.challengeToken);
  }

  @RpcHandler(AuthRpc.refresh)
  refreshTokens(request: RpcPayload<typeof AuthRpc.refresh>) {
    return this.refresh.refresh(request.refreshToken);
  }

  @RpcHandler(AuthRpc.logout)
  logout(request: RpcPayload<typeof AuthRpc.logout>) {
    return this.refresh.logout(request.tenantId, request.sessionId);
  }

  @RpcHandler(AuthRpc.acceptInvitation)
  acceptInvitation(request: RpcPayload<typeof AuthRpc.acceptInvitation>) {
    return this.links.acceptInvitation(request);
  }

  @RpcHandler(AuthRpc.requestPasswordReset)
  requestPasswordReset(request: RpcPayload<typeof AuthRpc.requestPasswordReset>) {
    return this.links.requestPasswordReset(request);
  }

  @RpcHandler(AuthRpc.completePasswordReset)
  completePasswordReset(request: RpcPayload<typeof AuthRpc.completePasswordReset>) {
    return this.links.completePasswordReset(request);
  }
}
