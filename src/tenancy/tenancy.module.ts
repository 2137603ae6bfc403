import { Global, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { Clock, DatabaseClock } from '../common/clock';
import { Aside, AsideSchema } from './schemas/aside.schema';
import { Organization, OrganizationSchema } from './schemas/organization.schema';
import { TenantConnectionService } from './tenant-connection.service';
import { TenantRegistry } from './tenant-registry.service';
import { TenantStorageService } from './tenant-storage.service';

/** Global so that any feature module can ask for tenant-scoped models without re-importing it. */
@Global()
@Module({
  imports: [
    MongooseModule.forFeature([
      { name: Organization.name, schema: OrganizationSchema },
      { name: Aside.name, schema: AsideSchema },
    ]),
  ],
  providers: [TenantRegistry, TenantConnectionService, TenantStorageService, Clock, DatabaseClock],
  exports: [TenantRegistry, TenantConnectionService, TenantStorageService, Clock, DatabaseClock],
})
export class TenancyModule {}
