import { Module } from '@nestjs/common';
import { PlatformHealthController } from './platform-health.controller.js';
import { PlatformHealthService } from './platform-health.service.js';

@Module({ controllers: [PlatformHealthController], providers: [PlatformHealthService] })
export class PlatformHealthModule {}
