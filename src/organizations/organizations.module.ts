import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { OrganizationLifecycleService } from './organization-lifecycle.service';
import { OrganizationRecoveryService } from './organization-recovery.service';
import { OrganizationsController } from './organizations.controller';
import { OrganizationsService } from './organizations.service';

@Module({
  imports: [AuthModule],
  controllers: [OrganizationsController],
  providers: [OrganizationsService, OrganizationLifecycleService, OrganizationRecoveryService],
})
export class OrganizationsModule {}
