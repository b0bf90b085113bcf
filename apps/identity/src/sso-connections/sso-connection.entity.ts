import type { AttributeMapping, GroupRole, SsoProtocol } from '@tenantry/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * An SSO connection of a tenant: SAML 2.0 (the IdP it trusts, and the SP key pair
 * generated for it) or OIDC (the provider and the client's credentials). The columns of
 * the other protocol are NULL. The SP private key and the OIDC client secret never leave
 * identity.
 */
@Entity('sso_connections')
export class SsoConnectionEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'tenant_id' })
  tenantId!: string;

  @Column('text')
  name!: string;

  @Column('text')
  protocol!: SsoProtocol;

  @Column('boolean')
  enabled!: boolean;

  /** Create unknown users at their first sign-in. */
  @Column('boolean')
  jit!: boolean;

  /** A role name, stored as given. */
  @Column('text', { name: 'default_role', nullable: true })
  defaultRole!: string | null;

  @Column('jsonb', { name: 'attribute_mapping' })
  attributeMapping!: AttributeMapping;

  @Column('jsonb', { name: 'group_roles' })
  groupRoles!: GroupRole[];

  @Column('text', { name: 'saml_idp_entity_id', nullable: true })
  samlIdpEntityId!: string | null;

  /** Where AuthnRequests go (HTTP-Redirect binding, else HTTP-POST). */
  @Column('text', { name: 'saml_idp_sso_url', nullable: true })
  samlIdpSsoUrl!: string | null;

  /** The IdP's signing certificates, PEM. */
  @Column('text', { name: 'saml_idp_certificates', array: true, nullable: true })
  samlIdpCertificates!: string[] | null;

  @Column('boolean', { name: 'saml_allow_idp_initiated', nullable: true })
  samlAllowIdpInitiated!: boolean | null;

  @Column('boolean', { name: 'saml_require_encrypted_assertions', nullable: true })
  samlRequireEncryptedAssertions!: boolean | null;

  @Column('integer', { name: 'saml_clock_skew_seconds', nullable: true })
  samlClockSkewSeconds!: number | null;

  /** PEM (PKCS#8), RSA 2048: signs AuthnRequests, decrypts assertions. */
  @Column('text', { name: 'saml_sp_private_key', nullable: true })
  samlSpPrivateKey!: string | null;

  /** PEM: the self-signed certificate of samlSpPrivateKey, in the SP metadata. */
  @Column('text', { name: 'saml_sp_certificate', nullable: true })
  samlSpCertificate!: string | null;

  @Column('text', { name: 'oidc_issuer', nullable: true })
  oidcIssuer!: string | null;

  @Column('text', { name: 'oidc_client_id', nullable: true })
  oidcClientId!: string | null;

  @Column('text', { name: 'oidc_client_secret', nullable: true })
  oidcClientSecret!: string | null;

  @Column('text', { name: 'oidc_scopes', array: true, nullable: true })
  oidcScopes!: string[] | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
