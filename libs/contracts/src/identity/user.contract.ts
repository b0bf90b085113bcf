import { z } from 'zod';
import { defineRpc } from '../common/rpc.js';
import {
  PageQuerySchema,
  pageOf,
  strictObject,
  TimestampSchema,
  UuidSchema,
} from '../common/primitives.js';
import { text } from '../common/text.js';
import { EmailSchema } from './auth.contract.js';
import { RoleSchema } from './principal.contract.js';

export const USER_STATUSES = ['invited', 'active', 'disabled'] as const;

export const UserSchema = z.object({
  id: UuidSchema,
  tenantId: UuidSchema,
  /** Lowercase, Unicode-normalized; unique within the tenant. */
  email: z.string(),
  displayName: z.string(),
  status: z.enum(USER_STATUSES),
  roles: z.array(z.string()),
  mfaEnabled: z.boolean(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  lastLoginAt: TimestampSchema.nullable(),
});
export type User = z.infer<typeof UserSchema>;

const TenantScoped = { tenantId: UuidSchema };
const OneUser = { ...TenantScoped, userId: UuidSchema };

/** Creating a user invites them: an email with a one-time link to set their password. */
export const CreateUserBodySchema = strictObject({
  email: EmailSchema,
  displayName: text({ max: 200, name: true }),
  roles: z.array(RoleSchema).max(20, { error: 'must list at most 20 roles' }).optional(),
});
export const CreateUserRequestSchema = strictObject({
  ...TenantScoped,
  ...CreateUserBodySchema.shape,
});

export const ListUsersQuerySchema = strictObject({
  ...PageQuerySchema.shape,
  status: z.enum(USER_STATUSES, { error: 'must be one of invited, active, disabled' }).optional(),
  /** Users whose email starts with this (case-insensitive). */
  email: text({ min: 1, max: 254 }).optional(),
});
export const ListUsersRequestSchema = strictObject({
  ...TenantScoped,
  ...ListUsersQuerySchema.shape,
});

export const UpdateUserBodySchema = strictObject({
  displayName: text({ max: 200, name: true }).optional(),
  roles: z.array(RoleSchema).max(20, { error: 'must list at most 20 roles' }).optional(),
});
export const UpdateUserRequestSchema = strictObject({ ...OneUser, ...UpdateUserBodySchema.shape });

export const UserRefSchema = strictObject(OneUser);
export const UserPageSchema = pageOf(UserSchema);

export const ChangePasswordBodySchema = strictObject({
  currentPassword: text({ min: 1, max: 1024 }),
  newPassword: text({ min: 1, max: 1024 }),
});
export const ChangePasswordRequestSchema = strictObject({
  ...OneUser,
  ...ChangePasswordBodySchema.shape,
});

export const UserRpc = {
  create: defineRpc('identity.users.create', CreateUserRequestSchema, UserSchema),
  get: defineRpc('identity.users.get', UserRefSchema, UserSchema),
  list: defineRpc('identity.users.list', ListUsersRequestSchema, UserPageSchema),
  update: defineRpc('identity.users.update', UpdateUserRequestSchema, UserSchema),
  disable: defineRpc('identity.users.disable', UserRefSchema, UserSchema),
  enable: defineRpc('identity.users.enable', UserRefSchema, UserSchema),
  delete: defineRpc('identity.users.delete', UserRefSchema, z.object({ deleted: z.literal(true) })),
  resendInvitation: defineRpc('identity.users.resend-invitation', UserRefSchema, UserSchema),
  changePassword: defineRpc(
    'identity.users.change-password',
    ChangePasswordRequestSchema,
    z.object({ changed: z.literal(true) }),
  ),
};
