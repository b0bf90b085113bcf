import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  CreateUserBodySchema,
  ListUsersQuerySchema,
  SessionRpc,
  SessionSchema,
  strictObject,
  UpdateUserBodySchema,
  UserPageSchema,
  UserRpc,
  UserSchema,
  UuidSchema,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { z } from 'zod';
import { Permission } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { ZodPipe } from '../http/zod.pipe.js';

const TenantPath = strictObject({ tenantId: UuidSchema });
const UserPath = strictObject({ tenantId: UuidSchema, userId: UuidSchema });
type UserRef = z.output<typeof UserPath>;

/** A tenant's users, for its admins, operators and API keys with the scope. */
@ApiTags('users')
@Controller('v1/tenants/:tenantId/users')
export class UserController {
  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @Permission('users:write')
  @ApiOperation({
    summary: 'Invite a user: an email with a one-time link to set their password',
  })
  @ApiContract({
    status: 201,
    path: TenantPath,
    body: CreateUserBodySchema,
    response: UserSchema,
    problems: [409],
  })
  create(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Body(new ZodPipe(CreateUserBodySchema, 'body')) body: z.output<typeof CreateUserBodySchema>,
  ) {
    return this.rpc.request(UserRpc.create, { ...body, tenantId: path.tenantId });
  }

  @Get()
  @Permission('users:read')
  @ApiOperation({ summary: "The tenant's users, oldest first" })
  @ApiContract({
    status: 200,
    path: TenantPath,
    query: ListUsersQuerySchema,
    response: UserPageSchema,
  })
  list(
    @Param(new ZodPipe(TenantPath, 'path')) path: z.output<typeof TenantPath>,
    @Query(new ZodPipe(ListUsersQuerySchema, 'query'))
    query: z.output<typeof ListUsersQuerySchema>,
  ) {
    return this.rpc.request(UserRpc.list, { ...query, tenantId: path.tenantId });
  }

  @Get(':userId')
  @Permission('users:read')
  @ApiOperation({ summary: 'Get a user' })
  @ApiContract({ status: 200, path: UserPath, response: UserSchema, problems: [404] })
  get(@Param(new ZodPipe(UserPath, 'path')) path: UserRef) {
    return this.rpc.request(UserRpc.get, path);
  }

  @Patch(':userId')
  @Permission('users:write')
  @ApiOperation({ summary: "Change a user's display name or roles" })
  @ApiContract({
    status: 200,
    path: UserPath,
    body: UpdateUserBodySchema,
    response: UserSchema,
    problems: [404],
  })
  update(
    @Param(new ZodPipe(UserPath, 'path')) path: UserRef,
    @Body(new ZodPipe(UpdateUserBodySchema, 'body')) body: z.output<typeof UpdateUserBodySchema>,
  ) {
    return this.rpc.request(UserRpc.update, { ...body, ...path });
  }

  @Delete(':userId')
  @Permission('users:write')
  @ApiOperation({ summary: 'Delete a user (their sessions end at once)' })
  @ApiContract({
    status: 200,
    path: UserPath,
    response: z.object({ deleted: z.literal(true) }),
    problems: [404],
  })
  delete(@Param(new ZodPipe(UserPath, 'path')) path: UserRef) {
    return this.rpc.request(UserRpc.delete, path);
  }

  @Post(':userId/disable')
  @HttpCode(200)
  @Permission('users:write')
  @ApiOperation({ summary: 'Disable a user: no sign-in, and their sessions end at once' })
  @ApiContract({ status: 200, path: UserPath, response: UserSchema, problems: [404] })
  disable(@Param(new ZodPipe(UserPath, 'path')) path: UserRef) {
    return this.rpc.request(UserRpc.disable, path);
  }

  @Post(':userId/enable')
  @HttpCode(200)
  @Permission('users:write')
  @ApiOperation({ summary: 'Enable a disabled user again' })
  @ApiContract({ status: 200, path: UserPath, response: UserSchema, problems: [404] })
  enable(@Param(new ZodPipe(UserPath, 'path')) path: UserRef) {
    return this.rpc.request(UserRpc.enable, path);
  }

  @Post(':userId/invitation')
  @HttpCode(200)
  @Permission('users:write')
  @ApiOperation({ summary: 'Send an invited user a new invitation (the old link stops working)' })
  @ApiContract({ status: 200, path: UserPath, response: UserSchema, problems: [404, 409] })
  resendInvitation(@Param(new ZodPipe(UserPath, 'path')) path: UserRef) {
    return this.rpc.request(UserRpc.resendInvitation, path);
  }

  @Get(':userId/sessions')
  @Permission('sessions:read')
  @ApiOperation({ summary: "A user's sessions" })
  @ApiContract({
    status: 200,
    path: UserPath,
    response: z.object({ items: z.array(SessionSchema) }),
    problems: [404],
  })
  sessions(@Param(new ZodPipe(UserPath, 'path')) path: UserRef) {
    return this.rpc.request(SessionRpc.list, path);
  }

  @Post(':userId/sessions/revoke-all')
  @HttpCode(200)
  @Permission('sessions:write')
  @ApiOperation({ summary: "End all of a user's sessions (their tokens are refused at once)" })
  @ApiContract({
    status: 200,
    path: UserPath,
    response: z.object({ revoked: z.number().int() }),
    problems: [404],
  })
  revokeSessions(@Param(new ZodPipe(UserPath, 'path')) path: UserRef) {
    return this.rpc.request(SessionRpc.revokeAll, path);
  }
}
