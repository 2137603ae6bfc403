import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { AuditController, AuditV1Controller } from './audit.controller';
import { AuditService } from './audit.service';

@Module({
  imports: [AccessModule],
  controllers: [AuditController, AuditV1Controller],
  providers: [AuditService],
  exports: [AuditService],
})
export class AuditModule {}
