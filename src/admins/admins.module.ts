import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AdminsService } from './admins.service';
import { Admin, AdminSchema } from './schemas/admin.schema';

/** The master database's admins: superadmins and the admin each organization is created with. */
@Module({
  imports: [MongooseModule.forFeature([{ name: Admin.name, schema: AdminSchema }])],
  providers: [AdminsService],
  exports: [AdminsService],
})
export class AdminsModule {}
