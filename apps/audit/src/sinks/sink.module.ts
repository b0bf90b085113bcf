import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SinkDeliveryWorker } from './sink.delivery-worker.js';
import { SinkDeadLetterEntity, SinkEntity } from './sink.entity.js';
import { SinkNatsController } from './sink.nats-controller.js';
import { SinkRepository } from './sink.repository.js';
import { SinkService } from './sink.service.js';
import { sinkSettingsProvider } from './sink.settings.js';

/**
 * SIEM delivery: a tenant's audit sinks (webhook, Splunk HEC), the loop that delivers the
 * ledger to them, and their dead letters. SinkDeliveryWorker is exported so that the
 * ledger can `wake()` it after an append.
 */
@Module({
  imports: [TypeOrmModule.forFeature([SinkEntity, SinkDeadLetterEntity])],
  controllers: [SinkNatsController],
  providers: [sinkSettingsProvider, SinkRepository, SinkService, SinkDeliveryWorker],
  exports: [SinkDeliveryWorker],
})
export class SinkModule {}
