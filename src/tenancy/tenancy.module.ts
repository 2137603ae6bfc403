import { Global, Module } from '@nestjs/common';
import { TenantConnectionService } from './tenant-connection.service';
import { TenantStorageService } from './tenant-storage.service';

/** Global so that any feature module can ask for tenant-scoped models without re-importing it. */
@Global()
@Module({
  providers: [TenantConnectionService, TenantStorageService],
  exports: [TenantConnectionService, TenantStorageService],
})
export class TenancyModule {}
