import { Controller, Inject } from '@nestjs/common';
import { AuditEventService } from './audit-event.service.js';

@Controller()
export class AuditEventNatsController {
  constructor(@Inject(AuditEventService) private readonly events: AuditEventService) {}

  // audit.events.list (the search): AuditSearchNatsController; the export RPCs:
  // AuditExportNatsController.
}
