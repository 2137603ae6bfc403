import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import { defineTenantEntity } from '../../tenancy/tenant';

/**
 * The admin's entry in the organization's own storage, as the seed services keep it: the storage
 * is never empty, and a rename visibly carries it along. Credentials stay in the master database.
 */
@Schema({ versionKey: false, timestamps: { createdAt: 'created_at', updatedAt: false } })
class TenantAdmin {
  _id: Types.ObjectId;

  @Prop({ required: true, default: 'admin' })
  kind: string;
}

const TenantAdminSchema = SchemaFactory.createForClass(TenantAdmin);
export const TenantAdminEntity = defineTenantEntity(null, TenantAdminSchema);
