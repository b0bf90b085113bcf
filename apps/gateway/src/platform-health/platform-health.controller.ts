import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { PlatformHealthSchema } from '@tenantry/contracts';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/access.decorators.js';
import { ApiContract } from '../http/api-docs.decorators.js';
import { PlatformHealthService } from './platform-health.service.js';

@ApiTags('platform')
@Controller('v1/health')
export class PlatformHealthController {
  constructor(@Inject(PlatformHealthService) private readonly health: PlatformHealthService) {}

  @Get()
  @Public()
  @ApiOperation({ summary: "Every service's readiness, asked over NATS (503 when any is down)" })
  @ApiContract({
    status: 200,
    response: PlatformHealthSchema,
    forwarded: false,
    responses: [
      { status: 503, description: 'A service is down (degraded)', schema: PlatformHealthSchema },
    ],
  })
  async get(@Res({ passthrough: true }) reply: FastifyReply) {
    const health = await this.health.check();
    reply.status(health.status === 'up' ? 200 : 503);
    return health;
  }
}
