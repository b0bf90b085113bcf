import type { OutgoingMail } from './mail.repository.js';

export interface InvitationMail {
  to: string;
  displayName: string;
  tenantName: string;
  appUrl: string;
  token: string;
  expiresAt: Date;
}

/** The invitation: a one-time link to set a password, and the API call that takes its token. */
export function invitationMail(mail: InvitationMail): OutgoingMail {
  const link = `${mail.appUrl}/accept-invitation?token=${encodeURIComponent(mail.token)}`;
  return {
    to: mail.to,
    subject: `You are invited to ${mail.tenantName} on Tenantry`,
    text: [
      `Hello ${mail.displayName},`,
      '',
      `you have been invited to ${mail.tenantName} on Tenantry. Choose your password here`,
      `(the link works once, until ${mail.expiresAt.toISOString()}):`,
      '',
      link,
      '',
      'From an API client, send the token with your new password to',
      'POST /v1/auth/invitations/accept: {"token": "<token>", "password": "<new password>"}',
      `token: ${mail.token}`,
      '',
      'If you did not expect this invitation, ignore this mail.',
    ].join('\n'),
  };
}

export interface PasswordResetMail {
  to: string;
  tenantName: string;
  appUrl: string;
  token: string;
  expiresAt: Date;
}

/** The password reset: a one-time link to set a new password, and the API call that takes its token. */
export function passwordResetMail(mail: PasswordResetMail): OutgoingMail {
  const link = `${mail.appUrl}/reset-password?token=${encodeURIComponent(mail.token)}`;
  return {
    to: mail.to,
    subject: 'Reset your Tenantry password',
    text: [
      'Hello,',
      '',
      `someone asked to reset the password of ${mail.to} at ${mail.tenantName} on Tenantry.`,
      `Choose a new password here (the link works once, until ${mail.expiresAt.toISOString()}):`,
      '',
      link,
      '',
      'From an API client, send the token with your new password to',
      'POST /v1/auth/password-reset/complete: {"token": "<token>", "password": "<new password>"}',
      `token: ${mail.token}`,
      '',
      'If you did not ask for this, ignore this mail: your password stays as it is.',
    ].join('\n'),
  };
}
