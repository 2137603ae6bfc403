import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuthModule } from '../auth/auth.module';
import { OrganizationLifecycleService } from './organization-lifecycle.service';
import { OrganizationRecoveryService } from './organization-recovery.service';
import { OrganizationsController } from './organizations.controller';
import { OrganizationsService } from './organizations.service';
import { Organization, OrganizationSchema } from './schemas/organization.schema';

@Module({
  imports: [AuthModule, MongooseModule.forFeature([{ name: Organization.name, schema: OrganizationSchema }])],
  controllers: [OrganizationsController],
  providers: [OrganizationsService, OrganizationLifecycleService, OrganizationRecoveryService],
})
export class OrganizationsModule {}
