import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { AdminsModule } from '../admins/admins.module';
import { AuditModule } from '../audit/audit.module';
import { MembersModule } from '../members/members.module';
import { PasswordsModule } from '../passwords/passwords.module';
import { OrganizationLifecycleService } from './organization-lifecycle.service';
import { OrganizationRecoveryService } from './organization-recovery.service';
import { OrganizationsV1Controller } from './organizations-v1.controller';
import { OrganizationsController } from './organizations.controller';
import { OrganizationsService } from './organizations.service';

@Module({
  imports: [AccessModule, AdminsModule, AuditModule, MembersModule, PasswordsModule],
  controllers: [OrganizationsController, OrganizationsV1Controller],
  providers: [OrganizationsService, OrganizationLifecycleService, OrganizationRecoveryService],
})
export class OrganizationsModule {}
