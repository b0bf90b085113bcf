import { Module } from '@nestjs/common';
import { AuditEventController } from './audit-event.controller.js';

/** The gateway's routes to the audit service. */
@Module({ controllers: [AuditEventController] })
export class AuditApiModule {}
